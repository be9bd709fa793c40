//! A script's thread and the rendezvous with its program.
//!
//! Each channel holds one message, and each side waits for the other's after handing over its
//! own: the script waits for the answer to its request, the program for the script's next
//! request, so the two never run at once. Waiting looks a few times first, yielding the processor
//! in between, and only then sleeps: a script that runs alone with its server hands over in a few
//! microseconds instead of the tens a wake-up costs on a virtual machine.
//!
//! When the program is dropped (the process ended or the run stopped), the thread is told to
//! stop, its channels close, and the drop waits for it: a script ends at its next operation, so
//! that wait is short.

use super::api::{self, EXITED, Link, RAN_TOO_LONG};
use super::request::{Answer, FromScript};
use super::{STOPPED, ScriptProgram};
use crossbeam_channel::{Receiver, Sender, bounded};
use mksim_kernel::Slot;
use rhai::{EvalAltResult, INT};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

/// A script thread's stack. Rhai's evaluator recurses for nested calls and expressions; with
/// [`super::Limits`]' depths this is ample, and the memory is only reserved, not used, until a
/// script goes deep.
const STACK_BYTES: usize = 8 << 20;

/// The program's end of a running script.
pub(crate) struct ScriptThread {
    requests: Option<Receiver<FromScript>>,
    answers: Option<Sender<Answer>>,
    cancelled: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
    name: Arc<str>,
}

impl ScriptThread {
    /// Starts `program` on a thread of its own; it runs to its first request.
    pub(crate) fn start(
        program: ScriptProgram,
        process: String,
        caps: BTreeMap<String, Slot>,
    ) -> std::io::Result<ScriptThread> {
        let (to_program, requests) = bounded(1);
        let (answers, from_program) = bounded(1);
        let cancelled = Arc::new(AtomicBool::new(false));
        let link = Link { to_program, answers: from_program, cancelled: Arc::clone(&cancelled) };
        let caps: BTreeMap<String, INT> = caps.into_iter().map(|(name, slot)| (name, INT::from(slot.0))).collect();
        let name = Arc::clone(&program.name);
        let handle = std::thread::Builder::new()
            .name("mksim script".into())
            .stack_size(STACK_BYTES)
            .spawn(move || run_script(program, process, caps, link))?;
        Ok(ScriptThread { requests: Some(requests), answers: Some(answers), cancelled, handle: Some(handle), name })
    }

    /// Waits for the script's next request or its end.
    pub(crate) fn next(&mut self) -> FromScript {
        let said = self.requests.as_ref().and_then(receive_soon);
        // The thread closes its channel only by ending, and it says how it ended first; a
        // channel closed without a word means the engine itself failed.
        said.unwrap_or_else(|| FromScript::Failed(format!("{}: the script engine stopped unexpectedly", self.name)))
    }

    /// Hands the script the answer to its last request.
    pub(crate) fn answer(&mut self, answer: Answer) {
        if let Some(answers) = &self.answers {
            // A script that is gone cannot take it; `next` reports that.
            let _ = answers.send(answer);
        }
    }
}

impl Drop for ScriptThread {
    fn drop(&mut self) {
        self.cancelled.store(true, Ordering::Relaxed);
        self.requests = None;
        self.answers = None;
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// How many times a side looks for what the other side hands it, letting other threads run in
/// between, before it sleeps until woken.
const LOOKS_BEFORE_SLEEPING: usize = 64;

/// The next thing on `channel`: looked for a few times first, yielding the processor in between,
/// because a script usually asks again within microseconds, and on a virtual machine being put
/// to sleep and woken costs tens of them.
pub(crate) fn receive_soon<T>(channel: &Receiver<T>) -> Option<T> {
    for _ in 0..LOOKS_BEFORE_SLEEPING {
        match channel.try_recv() {
            Ok(value) => return Some(value),
            Err(crossbeam_channel::TryRecvError::Disconnected) => return None,
            Err(crossbeam_channel::TryRecvError::Empty) => std::thread::yield_now(),
        }
    }
    channel.recv().ok()
}

/// The thread's body: runs the script and says how it ended.
fn run_script(program: ScriptProgram, process: String, caps: BTreeMap<String, INT>, link: Link) {
    let to_program = link.to_program.clone();
    let (engine, bridge) = api::engine(link, process, caps, Arc::clone(&program.params), &program.limits);
    let result = engine.run_ast(program.ast());
    let last = match result {
        Ok(()) => FromScript::Finished,
        Err(error) => match stop_token(&error) {
            Some(token) if token == EXITED => FromScript::Exit(api::lock(&bridge.exit_code).unwrap_or(0)),
            Some(token) if token == STOPPED => return, // the program is gone: nobody is listening
            _ => FromScript::Failed(describe(&program, error)),
        },
    };
    let _ = to_program.send(last);
}

/// The token of a terminate error (the script was stopped on purpose), if it is one.
fn stop_token(error: &EvalAltResult) -> Option<String> {
    match error.unwrap_inner() {
        EvalAltResult::ErrorTerminated(token, _) => Some(token.to_string()),
        _ => None,
    }
}

/// `spooler.rhai:12:5: peer dead`: where the innermost error happened, and what it was.
fn describe(program: &ScriptProgram, error: Box<EvalAltResult>) -> String {
    let name = &program.name;
    let mut inner = error;
    while let EvalAltResult::ErrorInFunctionCall(.., within, _) = *inner {
        inner = within;
    }
    let position = inner.take_position();
    let what = match &*inner {
        EvalAltResult::ErrorRuntime(value, _) => value.to_string(),
        EvalAltResult::ErrorTerminated(token, _) if token.to_string() == RAN_TOO_LONG => {
            format!("{RAN_TOO_LONG} (more script operations without a syscall than its budget)")
        }
        EvalAltResult::ErrorTerminated(token, _) => token.to_string(),
        EvalAltResult::ErrorDataTooLarge(..) => format!("used too much memory: {inner}"),
        other => other.to_string(),
    };
    match (position.line(), position.position()) {
        (Some(line), column) => {
            let (line, column) = program.place(line, column.unwrap_or(1));
            format!("{name}:{line}:{column}: {what}")
        }
        _ => format!("{name}: {what}"),
    }
}
