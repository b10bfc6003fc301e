"""`python -m metaverse.server [daphne's options] metaverse.asgi:application`: daphne, with the websocket
limits of CONTRACT.md §5 enforced by the server itself.

daphne's own limit on an incoming message is 1 MiB, and when autobahn (its websocket layer) fails a
connection — a message over the limit, a text frame that is not UTF-8 — it drops the TCP connection, so the
client sees 1006 and cannot tell why. Started from here, a message or a frame over 64 KiB (the room's
`MAX_FRAME_BYTES`) is refused by autobahn before it is buffered, and both failures end with a closing
handshake: 1009 for too big, 1007 for invalid UTF-8. Every option of `daphne` is accepted as is.
"""
from daphne import server
from daphne.cli import CommandLineInterface

from collaboration.protocol import MAX_FRAME_BYTES


class Server(server.Server):
    def __init__(self, *args, ready_callable=None, **kwargs):
        def ready():
            # run() has built the websocket factory; its options are copied to every connection it makes.
            self.ws_factory.setProtocolOptions(failByDrop=False)
            if ready_callable is not None:
                ready_callable()

        super().__init__(*args, ready_callable=ready, **kwargs)


class CLI(CommandLineInterface):
    server_class = Server

    def __init__(self):
        super().__init__()
        self.parser.set_defaults(websocket_max_message_size=MAX_FRAME_BYTES, websocket_max_frame_size=MAX_FRAME_BYTES)


if __name__ == "__main__":
    CLI.entrypoint()
