//! Every operation of a scripted program takes at least one step toward the run's step limit.
//!
//! An operation normally takes the steps of its syscalls. One that makes none (it fails before
//! it reaches the kernel, or is an exit) takes a step of its own, so no program runs unbounded:
//! a loop that never reaches the kernel still ends at the step limit. Both interpreters (the
//! RON operation lists and the scripting language) count steps this way.

use mksim_kernel::Sys;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// Counts the kernel's polls of a program: every poll but the first follows a syscall or a step
/// taken without one, so two operations that begin in the same poll had no step between them.
#[derive(Default)]
pub(crate) struct Steps {
    polls: Rc<Cell<u64>>,
    /// The poll in which the last operation began.
    began_in_poll: u64,
}

impl Steps {
    /// What counts the polls of the program these steps belong to; wrap the program in it with
    /// [`PollCounter::around`] (the program owns the steps, so the counter is taken first).
    pub(crate) fn counter(&self) -> PollCounter {
        PollCounter(Rc::clone(&self.polls))
    }

    /// Begins an operation: when no syscall came since the last one began, it takes a step of
    /// its own first, so every operation costs at least one step.
    pub(crate) async fn begin(&mut self, sys: &Sys) {
        if self.polls.get() == self.began_in_poll {
            sys.take_step().await;
        }
        self.began_in_poll = self.polls.get();
    }
}

/// Counts a program's polls into its [`Steps`].
pub(crate) struct PollCounter(Rc<Cell<u64>>);

impl PollCounter {
    /// `program`, its polls counted.
    pub(crate) fn around<F: Future>(self, program: F) -> CountPolls<F> {
        CountPolls { polls: self.0, program: Box::pin(program) }
    }
}

/// A program whose polls are counted (see [`Steps`]).
pub(crate) struct CountPolls<F> {
    polls: Rc<Cell<u64>>,
    program: Pin<Box<F>>,
}

impl<F: Future> Future for CountPolls<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.set(self.polls.get() + 1);
        self.program.as_mut().poll(context)
    }
}
