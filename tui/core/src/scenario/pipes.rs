//! The pipe server's settings in a scenario (`servers: (pipe: (buffer_bytes: 4096))`), as
//! written and as checked.

use super::limits::Bound;
use super::limits::Int;
use super::syntax::Step;
use super::{ScenarioError, Validator};
use mksim_servers::pipe::PipeConfig;
use mksim_servers::service::Service;
use mksim_userland::pipe_protocol::PIPE_BUF_BYTES;
use serde::Deserialize;

/// The most bytes a pipe may hold: every pipe's buffer lives in the run's memory.
pub const PIPE_BUFFER_BYTES_MAX: u64 = 1 << 20;

/// The pipe server.
#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields, default, rename = "Pipe")]
pub struct RawPipe {
    /// Bytes one pipe holds.
    pub buffer_bytes: Int,
    /// The server's priority, 0 to 31.
    pub priority: Int,
}

impl Default for RawPipe {
    fn default() -> Self {
        let buffer_bytes = PipeConfig::default().buffer_bytes as u64;
        RawPipe { buffer_bytes: buffer_bytes.into(), priority: u64::from(Service::Pipe.default_level()).into() }
    }
}

impl Validator<'_> {
    /// The pipe server's settings: a buffer holds at least one atomic write.
    pub(super) fn pipe(&self, raw: RawPipe) -> Result<(mksim_kernel::Priority, PipeConfig), ScenarioError> {
        let path = [Step::Field("servers"), Step::Field("pipe"), Step::Field("priority")];
        let priority = self.priority_at(raw.priority, || "servers.pipe.priority".to_owned(), &path)?;
        let path = [Step::Field("servers"), Step::Field("pipe"), Step::Field("buffer_bytes")];
        let why = "a write of up to PIPE_BUF (512) bytes goes in whole, so a pipe must hold that much";
        let bounds = (Bound::because(PIPE_BUF_BYTES as u64, why), Bound::plain(PIPE_BUFFER_BYTES_MAX));
        let item = || "servers.pipe.buffer_bytes".to_owned();
        let buffer_bytes = self.number(Some(raw.buffer_bytes), 0, bounds, "buffer_bytes", item, &path)?;
        Ok((priority, PipeConfig { buffer_bytes: buffer_bytes as usize, ..PipeConfig::default() }))
    }
}
