//! trace-reqwest
