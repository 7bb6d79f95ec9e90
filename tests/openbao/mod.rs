//! sealctl against a real OpenBao server (tests/common/openbao.rs): the `transit` and `kv`
//! backends end to end, with token, AppRole and JWT logins, and each way the server can fail.

mod cli;
mod fixture;
