//! Shared helpers for mksim's workspace-level tests (see `tests/tests/`).

#![deny(missing_docs)]
