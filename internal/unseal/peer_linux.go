package unseal

import (
	"net"

	"golang.org/x/sys/unix"
)

// peerOf asks the kernel who is at the other end of a unix socket.
func peerOf(c net.Conn) Peer {
	p := Peer{UID: -1}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return p
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return p
	}
	_ = raw.Control(func(fd uintptr) {
		if cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
			p = Peer{UID: int(cred.Uid), PID: int(cred.Pid)}
		}
	})
	return p
}
