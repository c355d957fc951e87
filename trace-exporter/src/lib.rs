//! trace-exporter
