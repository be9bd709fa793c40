//! The supervisor's copies of the name server's registrations, and their replay after the
//! name server restarts.
//!
//! A restarted name server keeps its port (the kernel hands the same endpoint to the new
//! incarnation) but not its table. The supervisor holds a copy of every registration: the
//! system servers' ports, handed to it at boot and updated as it re-registers restarted
//! servers; and the registrations programs made, which the name server copies to a backup
//! queue of the supervisor's as it accepts them. The supervisor drains the queue only when it
//! replays (a queue, not a call, so the name server never waits on its supervisor). It then
//! restores each name and says the replay is done, after which the name server answers a
//! missing name with not found again instead of try again.

use mksim_kernel::{Incoming, Message, Rights, Slot, Sys, SysError};
use mksim_userland::protocol::{NameRequest, Request, decode, encode};
use std::collections::BTreeMap;

/// What the supervisor keeps to rebuild a restarted name server's table.
#[derive(Clone, Debug, Default)]
pub struct NameCopies {
    /// Send-and-grant capabilities to the registered ports, by name.
    pub copies: BTreeMap<String, Slot>,
    /// Receive capability to the queue the name server copies programs' registrations to.
    pub backup: Option<Slot>,
}

impl NameCopies {
    /// Keeps a copy of `port`, just registered under `name` for a restarted server, in place of
    /// the old one.
    pub async fn record(&mut self, sys: &Sys, name: &str, port: Slot) {
        let Ok(copy) = sys.copy(port, Rights::SEND | Rights::GRANT).await else { return };
        self.keep(sys, name, copy).await;
    }

    async fn keep(&mut self, sys: &Sys, name: &str, slot: Slot) {
        if let Some(old) = self.copies.insert(name.to_owned(), slot) {
            let _ = sys.delete(old).await;
        }
    }

    /// Takes the programs' registrations waiting in the backup queue into the copies.
    async fn drain(&mut self, sys: &Sys) {
        let Some(backup) = self.backup else { return };
        while let Ok(Incoming::Message(copy)) = sys.try_receive(backup).await {
            match (decode::<NameRequest>(&copy.data), copy.caps.as_slice()) {
                (Some(NameRequest::Register { name }), &[slot]) => self.keep(sys, &name, slot).await,
                _ => {
                    for &slot in &copy.caps {
                        let _ = sys.delete(slot).await;
                    }
                }
            }
        }
    }

    /// Gives a restarted name server every registration back, then says the replay is done.
    /// Each call waits at most `timeout_cycles`: the name server may die again during the
    /// replay, and then nobody would answer the supervisor, which alone can restart it.
    ///
    /// # Errors
    /// Peer dead or timed out when the name server dies again during the replay: its death is
    /// handled like the first, with another replay.
    pub async fn replay(&mut self, sys: &Sys, name_server: Slot, timeout_cycles: u64) -> Result<(), SysError> {
        self.drain(sys).await;
        for (name, &slot) in &self.copies {
            let request = NameRequest::Restore { name: name.clone() };
            let message = Message::new(request.label(), encode(&request)).with_copy(slot, Rights::SEND | Rights::GRANT);
            // Refused only for a name registered again meanwhile, which is newer: nothing to do.
            sys.call_timeout(name_server, message, timeout_cycles).await?;
        }
        let done = NameRequest::Restored;
        sys.call_timeout(name_server, Message::new(done.label(), encode(&done)), timeout_cycles).await?;
        Ok(())
    }
}
