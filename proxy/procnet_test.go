package proxy_test

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// checkOwner checks, where Linux's /proc shows it, that the TCP
// connection from peer to server belongs to the process pid or one of
// its descendants: that the connection the server saw is the proxy's
// own. Where /proc cannot tell, it logs why and checks nothing.
func checkOwner(t testing.TB, peer, server netip.AddrPort, pid int) {
	t.Helper()
	inode, err := socketInode(peer, server)
	if err != nil {
		t.Logf("cannot check the owner of %s->%s: %v", peer, server, err)
		return
	}
	if inode == "" {
		t.Errorf("no connection %s->%s in /proc/net", peer, server)
		return
	}
	for _, p := range processTree(pid) {
		links, _ := filepath.Glob("/proc/" + strconv.Itoa(p) + "/fd/*")
		for _, l := range links {
			if target, err := os.Readlink(l); err == nil && target == "socket:["+inode+"]" {
				return
			}
		}
	}
	t.Errorf("connection %s->%s (socket %s) does not belong to the proxy (pid %d) or its children", peer, server, inode, pid)
}

// socketInode returns the inode of the TCP socket connected from local
// to remote, from /proc/net/tcp and tcp6, or "" if there is none.
func socketInode(local, remote netip.AddrPort) (string, error) {
	found := false
	for _, name := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		found = true
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[0] == "sl" {
				continue
			}
			l, lerr := parseProcAddr(fields[1])
			r, rerr := parseProcAddr(fields[2])
			if lerr == nil && rerr == nil && l == local && r == remote && fields[9] != "0" {
				f.Close()
				return fields[9], nil
			}
		}
		f.Close()
	}
	if !found {
		return "", os.ErrNotExist
	}
	return "", nil
}

// parseProcAddr reads an address of /proc/net/tcp: the IP address as
// hexadecimal 32-bit words in host (little-endian) order, a colon, the
// port in hexadecimal. IPv4-mapped addresses are unmapped.
func parseProcAddr(s string) (netip.AddrPort, error) {
	addrText, portText, _ := strings.Cut(s, ":")
	raw, err := hex.DecodeString(addrText)
	if err != nil {
		return netip.AddrPort{}, err
	}
	for i := 0; i+4 <= len(raw); i += 4 {
		binary.BigEndian.PutUint32(raw[i:], binary.LittleEndian.Uint32(raw[i:]))
	}
	addr, ok := netip.AddrFromSlice(raw)
	if !ok {
		return netip.AddrPort{}, os.ErrInvalid
	}
	port, err := strconv.ParseUint(portText, 16, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), nil
}

// processTree returns pid and its descendants, from /proc/*/stat.
func processTree(pid int) []int {
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, name := range stats {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		end := strings.LastIndexByte(string(b), ')')
		if end < 0 {
			continue
		}
		fields := strings.Fields(string(b[end+1:]))
		if len(fields) < 2 {
			continue
		}
		p, err1 := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Dir(name), "/proc/"), "/"))
		ppid, err2 := strconv.Atoi(fields[1])
		if err1 == nil && err2 == nil {
			children[ppid] = append(children[ppid], p)
		}
	}
	tree := []int{pid}
	for i := 0; i < len(tree) && i < len(stats)+1; i++ {
		tree = append(tree, children[tree[i]]...)
	}
	return tree
}
