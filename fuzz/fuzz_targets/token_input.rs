//! The reader of `influxctl management create` output (fuzz/targets.rs).
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::token_input(data));
