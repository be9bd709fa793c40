//! What the kernel's pipe, message-queue and socket modules hold, for the stubs to leave in the
//! log after each request (see `mksim_userland::service_state`): the same summaries the
//! servers leave in microkernel mode.

use super::InKernelServices;
use mksim_kernel::fault::ServiceModule;
use mksim_userland::service_state::ServiceSummary;

impl InKernelServices {
    /// The summary of `module`'s state, when that module is linked in and keeps one.
    pub(super) fn module_summary(&self, module: ServiceModule) -> Option<ServiceSummary> {
        match module {
            ServiceModule::Pipe => self.pipes.as_ref().map(|pipes| pipes.borrow().summary()),
            ServiceModule::MessageQueue => self.mq.as_ref().map(|queues| queues.borrow().summary()),
            ServiceModule::Socket => self.sockets.as_ref().map(|sockets| sockets.borrow().summary()),
            ServiceModule::FileSystem | ServiceModule::BlockDriver | ServiceModule::Console | ServiceModule::Timer => {
                None
            }
        }
    }
}
