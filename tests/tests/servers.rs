//! The servers answer malformed requests with an error reply and keep serving.

use mksim_kernel::{KernelConfig, Message, Priority};
use mksim_servers::filesystem::FsConfig;
use mksim_servers::system::{BlockServerSpec, Mode, ProgramSpec, Servers, SystemSpec, boot};
use mksim_userland::protocol::{FsReply, FsRequest, Request, ServiceError, SimpleReply, decode, encode};
use std::cell::RefCell;
use std::rc::Rc;

fn level(value: u8) -> Priority {
    Priority::new(value).expect("in range")
}

fn servers() -> Servers {
    Servers {
        name: Some(level(20)),
        console: Some(level(12)),
        block: Some(BlockServerSpec { priority: level(18), blocks: 32, block_size: 128, latency_cycles: 1000 }),
        file: Some((level(15), FsConfig::default())),
        timer: None,
        pipe: None,
        supervisor: None,
        mq: None,
        socket: None,
    }
}

#[test]
fn garbage_sent_to_the_servers_gets_bad_request_and_they_keep_serving() {
    let answers = Rc::new(RefCell::new(Vec::new()));
    let seen = Rc::clone(&answers);
    let program: mksim_servers::system::ProgramFn = Box::new(move |mut services, _caps| {
        Box::pin(async move {
            let fs = services.lookup("fs").await.expect("fs is registered");
            let console = services.lookup("console").await.expect("console is registered");
            let sys = services.sys().clone();
            let open = FsRequest::Open { path: "/x".into(), create: true };
            // Right label, bytes that do not decode.
            let garbage = sys.call(fs, Message::new(open.label(), vec![0xff; 9])).await?;
            seen.borrow_mut().push(format!("{:?}", decode::<FsReply>(&garbage.data)));
            let garbage = sys.call(console, Message::new(0x301, vec![0xfe, 0xfe])).await?;
            seen.borrow_mut().push(format!("{:?}", decode::<SimpleReply>(&garbage.data)));
            // The file server still works afterwards.
            let reply = sys.call(fs, Message::new(open.label(), encode(&open))).await?;
            seen.borrow_mut().push(format!("{:?}", decode::<FsReply>(&reply.data)));
            Ok(0)
        })
    });
    let spec = SystemSpec {
        kernel: KernelConfig::default(),
        servers: servers(),
        objects: Vec::new(),
        faults: Vec::new(),
        programs: vec![ProgramSpec::plain("fuzzer", level(5), program)],
    };
    let mut system = boot(spec, Mode::Microkernel);
    assert!(system.kernel.run().is_completed(), "{:?}", system.kernel.outcome());
    let bad = format!("{:?}", Some(FsReply::Error(ServiceError::BadRequest)));
    let bad_console = format!("{:?}", Some(SimpleReply::Error(ServiceError::BadRequest)));
    let opened = format!("{:?}", Some(FsReply::Descriptor(3)));
    assert_eq!(*answers.borrow(), vec![bad, bad_console, opened]);
    assert!(system.files().contains_key("/x"));
}
