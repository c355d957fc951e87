//! Test support: a Zipkin collector stand-in on 127.0.0.1.
#![allow(dead_code)]

pub mod zipkin;
