//! trace-log
