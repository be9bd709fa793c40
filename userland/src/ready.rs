//! Running service logic that never waits.
//!
//! Service logic is `async` so that the file server can await its block
//! device over IPC. When the device is a plain function call (monolithic
//! mode, unit tests), every await completes at once, and one poll runs the
//! whole operation.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Runs a future that completes without ever waiting.
///
/// # Panics
/// If the future is not ready on its first poll: it awaited something that
/// waits, which the caller promised it would not (a bug in mksim).
pub fn run_ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("bug: service logic waited although its device answers at once"),
    }
}
