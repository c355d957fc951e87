//! trace-tower
