//! What the booted servers need of the kernel's limits, so that a scenario whose limits give
//! them less is refused before it boots rather than failing inside `system::boot`.
//!
//! The counts follow the boot code in `system.rs` and the servers' loops: each server holds its
//! service port, what `boot_servers` grants it, the reply capability of the request it is
//! answering, and the notification a fault that makes it hang waits on. They are counted for
//! microkernel mode, which boots every server; monolithic mode needs no more.

use crate::filesystem::FsConfig;
use crate::service::Service;
use crate::socket::SocketConfig;
use crate::supervisor::MAX_WARDS;
use crate::system::Servers;
use mksim_userland::pipe_protocol::{PIPE_BUF_BYTES, PipeReply, PipeRequest};
use mksim_userland::protocol::{
    BlockRequest, FsReply, FsRequest, MQ_PRIORITY_MAX, MqReply, MqRequest, SimpleReply, encode,
};
use mksim_userland::socket_protocol::{SockReply, SockRequest};

/// What the programs of a scenario ask of the servers: some servers' needs grow with it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Demand {
    /// Distinct names programs may register at the name server (each takes a slot there).
    pub names_registered: usize,
    /// Programs that wait on the timer server (it keeps each one's reply capability).
    pub timer_clients: usize,
    /// Programs that may wait on the pipe server at once (it keeps each one's reply capability).
    pub pipe_clients: usize,
    /// Programs that use sockets (the socket server keeps the reply capability of each one
    /// that waits).
    pub socket_clients: usize,
}

/// One need of one server: how much, and why in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Need {
    /// The server.
    pub server: Service,
    /// How much it needs.
    pub amount: u64,
    /// Why, as a sentence ending that follows "the SERVER server needs AMOUNT: ".
    pub why: String,
}

/// What the booted servers need of each limit: every server's need of each, the largest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerNeeds {
    /// Capability slots one server holds at once.
    pub capability_slots: Vec<Need>,
    /// Objects one server owns at once.
    pub objects: Vec<Need>,
    /// Bytes in the largest message a server sends or receives that the program does not size.
    pub message_bytes: Vec<Need>,
    /// Capabilities one message of a server carries.
    pub message_caps: Vec<Need>,
}

impl ServerNeeds {
    /// The largest need of `needs`, if any server has one.
    pub fn largest(needs: &[Need]) -> Option<&Need> {
        needs.iter().max_by_key(|need| need.amount)
    }
}

/// The most services the name server publishes at boot (console, fs, timer, mq, pipe, block,
/// sock).
const MAX_PUBLISHED: usize = 7;

/// Bytes of the servers' requests and replies that carry no data: every server needs that much.
pub const PLAIN_MESSAGE_BYTES: u64 = 64;

/// What the servers that `servers` boots need, given what the programs ask of them.
pub fn server_needs(servers: &Servers, demand: Demand) -> ServerNeeds {
    let mut needs = ServerNeeds::default();
    let slots = |server, amount: usize, why: String| Need { server, amount: amount as u64, why };
    let hang = "and 1 for the notification it waits on when a fault makes it hang";
    if servers.name.is_some() {
        let published: Vec<&str> = [
            (Service::Console, servers.console.is_some()),
            (Service::File, servers.file.is_some() && servers.block.is_some()),
            (Service::Timer, servers.timer.is_some()),
            (Service::MessageQueue, servers.mq.is_some()),
            (Service::Pipe, servers.pipe.is_some()),
            (Service::Block, servers.block.is_some() && servers.supervises(Service::Block)),
            (Service::Socket, servers.socket.is_some()),
        ]
        .into_iter()
        .filter_map(|(service, booted)| booted.then_some(service.name()))
        .collect();
        let registered = demand.names_registered;
        let mut why = vec!["1 for its port".to_owned()];
        if !published.is_empty() {
            why.push(format!("1 for each service it publishes ({})", published.join(", ")));
        }
        if registered > 0 {
            why.push(format!("1 for each name programs may register ({registered})"));
        }
        why.push("2 while it answers (the caller's reply capability and the capability it hands over)".into());
        // A supervised name server is there to be faulted: it may hang, and it copies programs'
        // registrations to its supervisor.
        let supervised = servers.supervises(Service::Name);
        if supervised {
            why.push(
                "1 for the supervisor's backup queue, 1 for the notification it waits on when a fault makes it hang"
                    .into(),
            );
            needs.objects.push(slots(Service::Name, 2, format!("its port, {hang}")));
        }
        let extra = 2 * usize::from(supervised);
        needs.capability_slots.push(slots(Service::Name, 3 + published.len() + registered + extra, why.join(", ")));
        needs.message_caps.push(Need {
            server: Service::Name,
            amount: 1,
            why: "a lookup's reply carries the service's capability".into(),
        });
    }
    if servers.console.is_some() {
        needs.capability_slots.push(slots(
            Service::Console,
            3,
            format!("1 for its port, 1 for a caller's reply capability, {hang}"),
        ));
        needs.objects.push(slots(Service::Console, 2, format!("its port, {hang}")));
    }
    if let Some(block) = servers.block {
        needs.capability_slots.push(slots(
            Service::Block,
            4,
            format!("1 for its port, 1 for its interrupt, 1 for a caller's reply capability, {hang}"),
        ));
        needs.objects.push(slots(Service::Block, 3, format!("its port and its interrupt notification, {hang}")));
        let request = encode(&BlockRequest::Write { block: u32::MAX, data: vec![0; block.block_size] }).len();
        let reply = encode(&SimpleReply::Data(vec![0; block.block_size])).len();
        needs.message_bytes.push(Need {
            server: Service::Block,
            amount: request.max(reply) as u64,
            why: format!("one block of {} bytes travels in one message with its header", block.block_size),
        });
    }
    if let Some((_, config)) = servers.file {
        let name_server = usize::from(servers.name.is_some() && servers.supervises(Service::Block));
        let why = if name_server == 1 { "1 for the name server (to find a restarted block server), " } else { "" };
        needs.capability_slots.push(slots(
            Service::File,
            4 + name_server,
            format!("1 for its port, 1 for the block server's port, {why}1 for a caller's reply capability, {hang}"),
        ));
        needs.objects.push(slots(Service::File, 2, format!("its port, {hang}")));
        needs.message_bytes.push(file_transfer(config));
    }
    if servers.timer.is_some() {
        let clients = demand.timer_clients.max(1);
        needs.capability_slots.push(slots(
            Service::Timer,
            3 + clients,
            format!(
                "1 for its port, 1 for its tick, 1 for the reply capability of each program that may wait on it \
                 at once ({clients}), {hang}"
            ),
        ));
        needs.objects.push(slots(Service::Timer, 3, format!("its port and its tick notification, {hang}")));
    }
    if let Some((_, config)) = servers.mq {
        needs.capability_slots.push(slots(
            Service::MessageQueue,
            4,
            format!(
                "1 for its port, 1 for a caller's reply capability, 1 for the notification a registration \
                 passes, {hang}, and 1 more for each call waiting on a queue and each registration it keeps"
            ),
        ));
        needs.objects.push(slots(Service::MessageQueue, 2, format!("its port, {hang}")));
        let data = vec![0; config.message_bytes_max as usize];
        let request =
            MqRequest::Send { queue: u32::MAX, data: data.clone(), priority: MQ_PRIORITY_MAX, nonblocking: true };
        let reply = MqReply::Message { data, priority: MQ_PRIORITY_MAX };
        needs.message_bytes.push(Need {
            server: Service::MessageQueue,
            amount: encode(&request).len().max(encode(&reply).len()) as u64,
            why: format!(
                "a message of up to {} bytes travels in one message with its header",
                config.message_bytes_max
            ),
        });
        needs.message_caps.push(Need {
            server: Service::MessageQueue,
            amount: 1,
            why: "a registration for a notification carries the notification's capability".into(),
        });
    }
    if servers.pipe.is_some() {
        pipe_needs(&mut needs, demand.pipe_clients);
    }
    if let Some((_, config)) = servers.socket {
        socket_needs(&mut needs, config, demand.socket_clients, hang);
    }
    if let Some(supervisor) = &servers.supervisor {
        let wards: Vec<&str> = supervisor.wards.iter().take(MAX_WARDS).map(|ward| ward.server.as_str()).collect();
        let mut why = format!(
            "1 for the name server, 2 for each server it looks after ({}: a handle and a port), 1 for its \
             notification, and 1 for a restarted server's new port",
            wards.join(", ")
        );
        let mut copies = 0;
        if servers.supervises(Service::Name) {
            copies = 2 + MAX_PUBLISHED + demand.names_registered;
            why.push_str(&format!(
                "; with the name server looked after, 1 for its backup queue, a copy of each service published (at \
                 most {MAX_PUBLISHED}) and of each name programs may register ({}), and 1 for a copy being replaced",
                demand.names_registered
            ));
            needs.objects.push(slots(Service::Supervisor, 2, "its notification and the backup queue".into()));
        } else {
            needs.objects.push(slots(Service::Supervisor, 1, "the notification it is told of deaths on".into()));
        }
        needs.capability_slots.push(slots(Service::Supervisor, 3 + 2 * wards.len() + copies, why));
    }
    needs
}

/// The pipe server keeps the reply capability of every program waiting on a pipe.
fn pipe_needs(needs: &mut ServerNeeds, clients: usize) {
    let hang = "and 1 for the notification it waits on when a fault makes it hang";
    let clients = clients.max(1);
    needs.capability_slots.push(Need {
        server: Service::Pipe,
        amount: 3 + clients as u64,
        why: format!(
            "1 for its port, 1 for a caller's reply capability, 1 for the reply capability of each program that \
             may wait on a pipe at once ({clients}), {hang}"
        ),
    });
    needs.objects.push(Need { server: Service::Pipe, amount: 2, why: format!("its port, {hang}") });
    let data = vec![0; PIPE_BUF_BYTES];
    let request = encode(&PipeRequest::Write { fd: u32::MAX, data: data.clone(), nonblocking: false }).len();
    let reply = encode(&PipeReply::Data(data)).len();
    needs.message_bytes.push(Need {
        server: Service::Pipe,
        amount: request.max(reply) as u64,
        why: format!("a read or write moves up to {PIPE_BUF_BYTES} bytes in one message with its header"),
    });
}

/// The largest message the file server and its clients exchange.
fn file_transfer(config: FsConfig) -> Need {
    let data = vec![0; config.transfer_bytes_max];
    let request = encode(&FsRequest::Write { fd: u32::MAX, data: data.clone() }).len();
    let reply = encode(&FsReply::Data(data)).len();
    Need {
        server: Service::File,
        amount: request.max(reply) as u64,
        why: format!("a read or write moves up to {} bytes in one message with its header", config.transfer_bytes_max),
    }
}

/// The socket server holds its port, and the reply capability of every client waiting at once.
fn socket_needs(needs: &mut ServerNeeds, config: SocketConfig, clients: usize, hang: &str) {
    let clients = clients.max(1);
    needs.capability_slots.push(Need {
        server: Service::Socket,
        amount: 2 + clients as u64,
        why: format!(
            "1 for its port, 1 for the reply capability of each program that may wait on it at once ({clients}), \
             {hang}"
        ),
    });
    needs.objects.push(Need { server: Service::Socket, amount: 2, why: format!("its port, {hang}") });
    let data = vec![0; config.transfer_bytes_max];
    let request = encode(&SockRequest::Send { fd: u32::MAX, data: data.clone(), nonblocking: false }).len();
    let reply = encode(&SockReply::Data(data)).len();
    needs.message_bytes.push(Need {
        server: Service::Socket,
        amount: request.max(reply) as u64,
        why: format!(
            "a send or receive moves up to {} bytes in one message with its header",
            config.transfer_bytes_max
        ),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervisor::RestartPolicy;
    use crate::system::{BlockServerSpec, SupervisorSpec, WardSpec};
    use mksim_kernel::Priority;

    fn amount(needs: &[Need], server: Service) -> Option<u64> {
        needs.iter().find(|need| need.server == server).map(|need| need.amount)
    }

    #[test]
    fn each_booted_server_needs_what_boot_gives_it_and_what_it_holds_while_serving() {
        let level = Priority::new(10).unwrap();
        let ward = |server: Service| WardSpec {
            server: server.name().into(),
            policy: RestartPolicy::Always,
            backoff_cycles: 1,
            depends_on: Vec::new(),
        };
        let servers = Servers {
            name: Some(level),
            console: Some(level),
            block: Some(BlockServerSpec { priority: level, blocks: 64, block_size: 512, latency_cycles: 1 }),
            file: Some((level, FsConfig::default())),
            timer: Some((level, 10_000)),
            mq: None,
            pipe: None,
            supervisor: Some(SupervisorSpec {
                priority: level,
                heartbeat: None,
                wards: vec![ward(Service::Block), ward(Service::File)],
            }),
            socket: None,
        };
        let demand = Demand { names_registered: 2, timer_clients: 3, pipe_clients: 0, socket_clients: 0 };
        let needs = server_needs(&servers, demand);
        let slots = &needs.capability_slots;
        // Port, console + fs + timer + block published, 2 names, 2 while answering.
        assert_eq!(amount(slots, Service::Name), Some(1 + 4 + 2 + 2));
        assert_eq!(amount(slots, Service::Console), Some(3));
        assert_eq!(amount(slots, Service::Block), Some(4));
        assert_eq!(
            amount(slots, Service::File),
            Some(5),
            "with its block server supervised, the fs holds the name server"
        );
        assert_eq!(amount(slots, Service::Timer), Some(2 + 3 + 1));
        assert_eq!(amount(slots, Service::Supervisor), Some(1 + 2 * 2 + 1 + 1));
        assert_eq!(ServerNeeds::largest(slots).map(|need| need.server), Some(Service::Name));
        assert_eq!(amount(&needs.objects, Service::Block), Some(3));
        assert!(amount(&needs.message_bytes, Service::Block).is_some_and(|bytes| bytes > 512 && bytes <= 1024));
        assert_eq!(amount(&needs.message_caps, Service::Name), Some(1));
        let bare = server_needs(&Servers::default(), Demand::default());
        assert_eq!(bare, ServerNeeds::default(), "nothing booted, nothing needed");
    }
}
