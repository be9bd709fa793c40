//! The system's own services, and the facts about each that the rest of the simulator asks
//! for: the name it goes by, its default priority, whether it boots by default, whether
//! programs look it up, whether faults can strike it (and so a supervisor can look after it),
//! and which module of the monolithic kernel holds its code.
//!
//! Every other crate asks [`Service`] rather than keeping a list of its own: the scenario
//! format's defaults and checks, the boot code, the name server's reserved names and the
//! fault campaign all read the same table. This module knows nothing of how a service is
//! booted or what it serves.

use mksim_kernel::Priority;
use mksim_kernel::syscall::ServiceModule;
use std::fmt;

/// One of the system's own services.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Service {
    /// The name server.
    Name,
    /// The console server.
    Console,
    /// The block server (the ramdisk's driver).
    Block,
    /// The file server.
    File,
    /// The timer server.
    Timer,
    /// The supervisor, which restarts the servers it looks after.
    Supervisor,
    /// The message-queue server (POSIX message queues).
    MessageQueue,
    /// The pipe server.
    Pipe,
    /// The socket server (Unix-domain stream sockets).
    Socket,
}

impl Service {
    /// Every service, in the order lists of them are shown.
    pub const ALL: [Service; 9] = [
        Service::Name,
        Service::Console,
        Service::Block,
        Service::File,
        Service::Timer,
        Service::Supervisor,
        Service::MessageQueue,
        Service::Pipe,
        Service::Socket,
    ];

    /// The name it goes by in the process table, at the name server, in fault specs and in
    /// a scenario's `faults`, `restart` and `expect.restarts`.
    pub fn name(self) -> &'static str {
        match self {
            Service::Name => "name",
            Service::Console => "console",
            Service::Block => "block",
            Service::File => "fs",
            Service::Timer => "timer",
            Service::Supervisor => "supervisor",
            Service::MessageQueue => "mq",
            Service::Pipe => "pipe",
            Service::Socket => "sock",
        }
    }

    /// True when `name` is a service's name, which only the system registers at the name
    /// server (at boot, and the supervisor again after a restart); no program may, whatever
    /// its scenario says.
    pub fn is_reserved(name: &str) -> bool {
        Service::from_name(name).is_some()
    }

    /// What it is called in a sentence ("the file server needs ...").
    pub fn description(self) -> &'static str {
        match self {
            Service::Name => "the name server",
            Service::Console => "the console server",
            Service::Block => "the block server",
            Service::File => "the file server",
            Service::Timer => "the timer server",
            Service::Supervisor => "the supervisor",
            Service::MessageQueue => "the message-queue server",
            Service::Pipe => "the pipe server",
            Service::Socket => "the socket server",
        }
    }

    /// The service that goes by `name`, if any.
    pub fn from_name(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|service| service.name() == name)
    }

    /// The priority level it runs at when the scenario does not say.
    pub fn default_level(self) -> u8 {
        match self {
            Service::Name => 20,
            Service::Console => 12,
            Service::Block => 18,
            Service::File => 15,
            Service::Timer => 19,
            Service::Supervisor => 22,
            Service::MessageQueue => 14,
            Service::Pipe => 14,
            Service::Socket => 14,
        }
    }

    /// The priority it runs at when the scenario does not say.
    pub fn default_priority(self) -> Priority {
        Priority::new(self.default_level()).expect("default levels are below Priority::LEVELS")
    }

    /// True when a scenario that says nothing about it boots it.
    pub fn boots_by_default(self) -> bool {
        matches!(self, Service::Name | Service::Console)
    }

    /// True when faults can strike it, and so a supervisor can look after it: every server
    /// but the supervisor itself.
    pub fn is_faultable(self) -> bool {
        self == Service::Name || self.is_drawn_at_random()
    }

    /// The services faults can strike, in [`Service::ALL`]'s order.
    pub fn faultable() -> impl Iterator<Item = Service> {
        Service::ALL.into_iter().filter(|service| service.is_faultable())
    }

    /// True when a fault campaign's random faults strike it: the services with a module in
    /// the monolithic kernel, where the same fault strikes the same request. The name server
    /// is left out: monolithic mode answers the system's lookups in the kernel without a
    /// request count, so a random name-server fault would manifest in one mode only.
    pub fn is_drawn_at_random(self) -> bool {
        matches!(
            self,
            Service::Console
                | Service::Block
                | Service::File
                | Service::Timer
                | Service::MessageQueue
                | Service::Pipe
                | Service::Socket
        )
    }

    /// The services a campaign's random faults strike, in [`Service::ALL`]'s order.
    pub fn drawn_at_random() -> impl Iterator<Item = Service> {
        Service::ALL.into_iter().filter(|service| service.is_drawn_at_random())
    }

    /// True when programs look it up at the name server. The block server is the file
    /// server's, published only so a restarted one can be found again; the name server and
    /// the supervisor are not services a program calls by name.
    pub fn is_looked_up(self) -> bool {
        matches!(
            self,
            Service::Console | Service::File | Service::Timer | Service::MessageQueue | Service::Pipe | Service::Socket
        )
    }

    /// True when clients pass capabilities in their requests (a message queue's notification),
    /// so a lookup gives them the right to.
    pub fn takes_capabilities(self) -> bool {
        matches!(self, Service::MessageQueue)
    }

    /// The module of the monolithic kernel that holds its code, for a service that has one.
    pub fn module(self) -> Option<ServiceModule> {
        match self {
            Service::Console => Some(ServiceModule::Console),
            Service::Block => Some(ServiceModule::BlockDriver),
            Service::File => Some(ServiceModule::FileSystem),
            Service::Timer => Some(ServiceModule::Timer),
            Service::MessageQueue => Some(ServiceModule::MessageQueue),
            Service::Pipe => Some(ServiceModule::Pipe),
            Service::Socket => Some(ServiceModule::Socket),
            Service::Name | Service::Supervisor => None,
        }
    }
}

/// Its name.
impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_service_is_found_again_by_its_name_and_no_other_name_finds_one() {
        for service in Service::ALL {
            assert_eq!(Service::from_name(service.name()), Some(service));
        }
        assert_eq!(Service::from_name("file"), None, "the scenario's `file` key is not the service's name");
        assert_eq!(Service::from_name("echo"), None);
    }

    #[test]
    fn random_faults_strike_the_services_with_a_kernel_module_and_scenarios_also_the_name_server() {
        let names: Vec<&str> = Service::faultable().map(Service::name).collect();
        assert_eq!(names, ["name", "console", "block", "fs", "timer", "mq", "pipe", "sock"]);
        for service in Service::ALL {
            assert_eq!(service.is_drawn_at_random(), service.module().is_some(), "{service}");
        }
    }

    #[test]
    fn default_priorities_are_valid_and_only_name_and_console_boot_by_default() {
        for service in Service::ALL {
            assert_eq!(service.default_priority().level(), service.default_level());
        }
        let booted: Vec<Service> = Service::ALL.into_iter().filter(|service| service.boots_by_default()).collect();
        assert_eq!(booted, [Service::Name, Service::Console]);
    }
}
