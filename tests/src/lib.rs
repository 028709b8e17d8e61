//! Helpers shared by strata's end-to-end tests.
//!
//! * [`Emulator`] starts a private moto server (the local AWS emulator) on a free loopback port and
//!   stops it when dropped. The server comes from `$STRATA_MOTO_SERVER`, else from the repository's
//!   `.venv` (made by `scripts/emulator.sh install`). A missing emulator fails the test: tests never
//!   skip.
//! * [`run_strata`] runs the built `strata` binary (building it once per test process with
//!   [`ensure_strata_built`]) and captures its exit code and output; [`spawn_strata`] starts it
//!   without waiting. [`assert_code`] checks a [`Run`]'s exit code and shows what it printed.
//! * [`Project`] is a project directory with its own emulator, for tests that drive the binary
//!   through several commands; [`copy_dir`] copies an example into one.
//! * [`proxy::Proxy`] stands between strata and the emulator: it injects faults (latency,
//!   throttling, a refused call, a SIGKILL at the Nth request) and records every request.
//! * [`census`] counts what the emulator holds, by kind, for the examples the fault tests apply.
//! * [`kit`] holds what the tests share on the AWS side: the provider-test steps and asserts, and
//!   reads of what the emulator holds.

pub mod census;
mod emulator;
pub mod kit;
pub mod proxy;
mod run;

pub use emulator::{moto_server_path, workspace_root, Emulator};
pub use run::{
    assert_code, assert_code_while, assert_contains, copy_dir, dead_endpoint, ensure_strata_built,
    run_strata, spawn_strata, strata_bin, target_dir, wait, Project, Run,
};
