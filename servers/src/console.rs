//! The console: text output captured per client, as a terminal driver would
//! show it. The capture is shared with whoever ran the system, to show and check.

use crate::serve::{Answer, ServerFaults, serve_with_faults};
use mksim_kernel::{Incoming, Message, ProgramResult, Slot, Sys};
use mksim_userland::protocol::{ConsoleRequest, ServiceError, SimpleReply, decode, encode, reply_label};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Console output, by process name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsoleOutput {
    clients: BTreeMap<u64, String>,
    text: BTreeMap<String, String>,
}

impl ConsoleOutput {
    /// Names the client whose messages carry `badge`.
    pub fn name_client(&mut self, badge: u64, name: &str) {
        self.clients.insert(badge, name.to_owned());
    }

    /// Appends text to a client's output.
    pub fn write(&mut self, badge: u64, text: &str) {
        let name = self.clients.get(&badge).cloned().unwrap_or_else(|| format!("client {badge}"));
        self.text.entry(name).or_default().push_str(text);
    }

    /// Everything written, by process name.
    pub fn by_process(&self) -> &BTreeMap<String, String> {
        &self.text
    }
}

/// Runs the console server on `port`, writing into `output`.
///
/// # Errors
/// Faults when its own port fails.
pub async fn console_server(
    sys: Sys,
    port: Slot,
    output: Rc<RefCell<ConsoleOutput>>,
    faults: Option<ServerFaults>,
) -> ProgramResult {
    serve_with_faults(&sys, port, faults, async |incoming| {
        let Incoming::Message(request) = incoming else { return Answer::Later };
        let reply = match decode::<ConsoleRequest>(&request.data) {
            Some(ConsoleRequest::Write { text }) => {
                output.borrow_mut().write(request.badge.0, &text);
                SimpleReply::Done
            }
            None => SimpleReply::Error(ServiceError::BadRequest),
        };
        Answer::Now(Message::new(reply_label(request.label), encode(&reply)))
    })
    .await
}
