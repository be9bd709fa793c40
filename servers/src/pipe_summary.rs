//! What the pipes hold, as the event log keeps it after each request that changed it: each
//! pipe's fill and its open ends (see `mksim_userland::service_state`).

use super::Pipes;
use mksim_userland::service_state::{PipeSummary, PipesSummary, ServiceSummary, listed};

impl Pipes {
    /// The pipes' fill and open ends, the first [`mksim_userland::service_state::LISTED_MAX`]
    /// by number.
    pub fn summary(&self) -> ServiceSummary {
        let capacity = u32::try_from(self.config.buffer_bytes).unwrap_or(u32::MAX);
        let (pipes, more) = listed(self.pipes.iter(), |(&id, pipe)| PipeSummary {
            id,
            buffered: u32::try_from(pipe.buffer.len()).unwrap_or(u32::MAX),
            capacity,
            readers: pipe.readers,
            writers: pipe.writers,
        });
        ServiceSummary::Pipes(PipesSummary { pipes, more })
    }
}

#[cfg(test)]
mod tests {
    use crate::pipe::{PipeConfig, Pipes};
    use mksim_userland::pipe_protocol::{PipeReply, PipeRequest};
    use mksim_userland::service_state::{PipeSummary, PipesSummary, ServiceSummary};

    fn descriptors(pipes: &mut Pipes) -> (u32, u32) {
        match pipes.handle(1, &PipeRequest::Create).outcome {
            crate::pipe::Outcome::Done(PipeReply::Created { read, write }) => (read, write),
            other => panic!("create answered {other:?}"),
        }
    }

    #[test]
    fn the_summary_follows_the_fill_and_the_open_ends() {
        let mut pipes = Pipes::new(PipeConfig { buffer_bytes: 1024, ..PipeConfig::default() });
        assert_eq!(pipes.summary(), ServiceSummary::Pipes(PipesSummary::default()));
        let (read, write) = descriptors(&mut pipes);
        pipes.handle(1, &PipeRequest::Write { fd: write, data: vec![7; 9], nonblocking: false });
        let expected = PipeSummary { id: 0, buffered: 9, capacity: 1024, readers: 1, writers: 1 };
        assert_eq!(pipes.summary(), ServiceSummary::Pipes(PipesSummary { pipes: vec![expected.clone()], more: 0 }));
        pipes.handle(1, &PipeRequest::Read { fd: read, len: 4, nonblocking: false });
        pipes.handle(1, &PipeRequest::Close { fd: write });
        let expected = PipeSummary { buffered: 5, writers: 0, ..expected };
        assert_eq!(pipes.summary(), ServiceSummary::Pipes(PipesSummary { pipes: vec![expected], more: 0 }));
    }

    #[test]
    fn a_long_list_of_pipes_is_cut() {
        let mut pipes = Pipes::new(PipeConfig { descriptors_max: 64, ..PipeConfig::default() });
        for _ in 0..11 {
            descriptors(&mut pipes);
        }
        let ServiceSummary::Pipes(summary) = pipes.summary() else { panic!("a pipe summary") };
        assert_eq!(summary.pipes.len(), mksim_userland::service_state::LISTED_MAX);
        assert_eq!(summary.more, 3);
    }
}
