use super::*;

const SERVER: u64 = 1;
const CLIENT: u64 = 2;

fn reply(sockets: &mut Sockets, client: u64, request: SockRequest) -> SockReply {
    match sockets.handle(client, request).outcome {
        Outcome::Done(reply) => reply,
        Outcome::Wait(channel) => panic!("waits on {channel:?}"),
    }
}

fn descriptor(sockets: &mut Sockets, client: u64, request: SockRequest) -> u32 {
    match reply(sockets, client, request) {
        SockReply::Descriptor(fd) => fd,
        other => panic!("expected a descriptor, got {other:?}"),
    }
}

fn listen(sockets: &mut Sockets, backlog: u32) -> u32 {
    descriptor(sockets, SERVER, SockRequest::Listen { path: "/tmp/echo".into(), backlog })
}

fn connect(sockets: &mut Sockets) -> SockReply {
    reply(sockets, CLIENT, SockRequest::Connect { path: "/tmp/echo".into() })
}

fn send(fd: u32, text: &str) -> SockRequest {
    SockRequest::Send { fd, data: text.as_bytes().to_vec(), nonblocking: false }
}

fn recv(fd: u32, len: u32) -> SockRequest {
    SockRequest::Recv { fd, len, nonblocking: false }
}

#[test]
fn bytes_flow_both_ways_in_order_and_close_gives_end_of_file_after_the_rest() {
    let mut sockets = Sockets::new(SocketConfig::default());
    let listener = listen(&mut sockets, 2);
    let SockReply::Descriptor(client) = connect(&mut sockets) else { panic!("refused") };
    let server = descriptor(&mut sockets, SERVER, SockRequest::Accept { fd: listener, nonblocking: false });
    assert_eq!(reply(&mut sockets, CLIENT, send(client, "hello, ")), SockReply::Sent(7));
    assert_eq!(reply(&mut sockets, CLIENT, send(client, "world")), SockReply::Sent(5));
    assert_eq!(reply(&mut sockets, SERVER, recv(server, 4)), SockReply::Data(b"hell".to_vec()));
    assert_eq!(reply(&mut sockets, SERVER, send(server, "back")), SockReply::Sent(4));
    assert_eq!(reply(&mut sockets, CLIENT, recv(client, 64)), SockReply::Data(b"back".to_vec()));
    assert_eq!(reply(&mut sockets, CLIENT, SockRequest::Close { fd: client }), SockReply::Done);
    assert_eq!(reply(&mut sockets, SERVER, recv(server, 64)), SockReply::Data(b"o, world".to_vec()));
    assert_eq!(reply(&mut sockets, SERVER, recv(server, 64)), SockReply::Data(Vec::new()), "end of file");
    assert_eq!(reply(&mut sockets, SERVER, send(server, "x")), SockReply::Error(ServiceError::BrokenPipe));
}

#[test]
fn waiting_operations_name_their_channel_and_the_change_that_ends_the_wait_wakes_it() {
    let config = SocketConfig { buffer_bytes: 4, ..SocketConfig::default() };
    let mut sockets = Sockets::new(config);
    let listener = listen(&mut sockets, 1);
    let Outcome::Wait(accepters) =
        sockets.handle(SERVER, SockRequest::Accept { fd: listener, nonblocking: false }).outcome
    else {
        panic!("nothing to accept yet")
    };
    let connected = sockets.handle(CLIENT, SockRequest::Connect { path: "/tmp/echo".into() });
    assert_eq!(connected.wake[0], Some(accepters));
    let Outcome::Done(SockReply::Descriptor(client)) = connected.outcome else { panic!("refused") };
    let Outcome::Wait(connector) = sockets.handle(CLIENT, recv(client, 8)).outcome else { panic!("nothing sent") };
    let server = descriptor(&mut sockets, SERVER, SockRequest::Accept { fd: listener, nonblocking: false });
    assert_eq!(reply(&mut sockets, SERVER, send(server, "abcdef")), SockReply::Sent(4), "the buffer holds 4");
    let Outcome::Wait(full) = sockets.handle(SERVER, send(server, "ef")).outcome else { panic!("buffer full") };
    let nonblocking = SockRequest::Send { fd: server, data: b"ef".to_vec(), nonblocking: true };
    assert_eq!(reply(&mut sockets, SERVER, nonblocking), SockReply::Error(ServiceError::WouldBlock));
    let drained = sockets.handle(CLIENT, recv(client, 8));
    assert_eq!(drained.outcome, Outcome::Done(SockReply::Data(b"abcd".to_vec())));
    assert_eq!(drained.wake[0], Some(full), "room for the waiting sender");
    assert_ne!(connector, full);
}

#[test]
fn refused_without_a_listener_or_with_a_full_backlog_and_reset_when_the_listener_closes() {
    let mut sockets = Sockets::new(SocketConfig::default());
    assert_eq!(connect(&mut sockets), SockReply::Error(ServiceError::ConnectionRefused));
    let listener = listen(&mut sockets, 1);
    let again = SockRequest::Listen { path: "/tmp/echo".into(), backlog: 1 };
    assert_eq!(reply(&mut sockets, CLIENT, again), SockReply::Error(ServiceError::AddressInUse));
    let SockReply::Descriptor(client) = connect(&mut sockets) else { panic!("refused") };
    assert_eq!(connect(&mut sockets), SockReply::Error(ServiceError::ConnectionRefused), "backlog full");
    assert_eq!(reply(&mut sockets, SERVER, send(listener, "x")), SockReply::Error(ServiceError::NotConnected));
    assert_eq!(reply(&mut sockets, SERVER, SockRequest::Close { fd: listener }), SockReply::Done);
    assert_eq!(reply(&mut sockets, CLIENT, recv(client, 8)), SockReply::Error(ServiceError::ConnectionReset));
    assert_eq!(reply(&mut sockets, CLIENT, send(client, "x")), SockReply::Error(ServiceError::ConnectionReset));
    assert_eq!(reply(&mut sockets, CLIENT, SockRequest::Close { fd: client }), SockReply::Done);
    assert!(sockets.connections().is_empty(), "a connection closed at both ends is gone");
    assert_eq!(connect(&mut sockets), SockReply::Error(ServiceError::ConnectionRefused), "the path is free again");
}
