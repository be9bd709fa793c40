//! In monolithic mode the stub itself runs the service logic inside the kernel, so it is the
//! stub that leaves the service's new state in the log after each request (in microkernel mode
//! the server does, after handling the request): the same summaries in both modes.

use super::{KernelServices, Services};
use mksim_kernel::fault::ServiceModule;

impl Services {
    /// Leaves in the log what `module`'s service holds now (a free marker; repeats are not kept).
    pub(super) fn record_summary(&self, services: &dyn KernelServices, module: ServiceModule) {
        if let Some(summary) = services.summary(module) {
            summary.record(&self.sys);
        }
    }
}
