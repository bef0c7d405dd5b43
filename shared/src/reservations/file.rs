//! The staff's file of services and slots (YAML, or CSV saved from Excel).
