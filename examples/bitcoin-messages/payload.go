package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// protocolVersion is the Bitcoin P2P protocol version the nodes claim.
const protocolVersion = 70016

// version is the payload of a "version" message, the first message of
// each side of a Bitcoin P2P connection.
type version struct {
	Version     int32
	Services    uint64
	Timestamp   int64
	Receiver    netip.AddrPort
	Sender      netip.AddrPort
	Nonce       uint64
	UserAgent   string
	StartHeight int32
	Relay       bool
}

// marshal encodes v in the wire format.
func (v *version) marshal() []byte {
	b := make([]byte, 0, 86+len(v.UserAgent))
	b = binary.LittleEndian.AppendUint32(b, uint32(v.Version))
	b = binary.LittleEndian.AppendUint64(b, v.Services)
	b = binary.LittleEndian.AppendUint64(b, uint64(v.Timestamp))
	b = appendNetAddr(b, v.Services, v.Receiver)
	b = appendNetAddr(b, v.Services, v.Sender)
	b = binary.LittleEndian.AppendUint64(b, v.Nonce)
	b = appendVarInt(b, uint64(len(v.UserAgent)))
	b = append(b, v.UserAgent...)
	b = binary.LittleEndian.AppendUint32(b, uint32(v.StartHeight))
	if v.Relay {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendNetAddr appends a network address without its time field, as a
// version message carries it: services, IPv6 (or IPv4-mapped) address,
// big-endian port.
func appendNetAddr(b []byte, services uint64, ap netip.AddrPort) []byte {
	b = binary.LittleEndian.AppendUint64(b, services)
	ip := ap.Addr().As16()
	b = append(b, ip[:]...)
	return binary.BigEndian.AppendUint16(b, ap.Port())
}

// appendVarInt appends n as a Bitcoin variable-length integer.
func appendVarInt(b []byte, n uint64) []byte {
	switch {
	case n < 0xfd:
		return append(b, byte(n))
	case n <= 0xffff:
		return binary.LittleEndian.AppendUint16(append(b, 0xfd), uint16(n))
	case n <= 0xffffffff:
		return binary.LittleEndian.AppendUint32(append(b, 0xfe), uint32(n))
	}
	return binary.LittleEndian.AppendUint64(append(b, 0xff), n)
}

var errShort = errors.New("payload too short")

// unmarshal decodes a version payload; it returns an error for one that
// is truncated or malformed.
func (v *version) unmarshal(p []byte) error {
	const fixed = 4 + 8 + 8 + 26 + 26 + 8
	if len(p) < fixed+1 {
		return errShort
	}
	v.Version = int32(binary.LittleEndian.Uint32(p))
	v.Services = binary.LittleEndian.Uint64(p[4:])
	v.Timestamp = int64(binary.LittleEndian.Uint64(p[12:]))
	v.Receiver = netAddr(p[20:46])
	v.Sender = netAddr(p[46:72])
	v.Nonce = binary.LittleEndian.Uint64(p[72:])
	p = p[fixed:]
	n, size := varInt(p)
	if size == 0 || uint64(len(p)-size) < n {
		return errShort
	}
	v.UserAgent = string(p[size : size+int(n)])
	p = p[size+int(n):]
	if len(p) < 4 {
		return errShort
	}
	v.StartHeight = int32(binary.LittleEndian.Uint32(p))
	// relay is optional (absent before protocol version 70001).
	v.Relay = len(p) > 4 && p[4] != 0
	return nil
}

func netAddr(b []byte) netip.AddrPort {
	ip := netip.AddrFrom16([16]byte(b[8:24])).Unmap()
	return netip.AddrPortFrom(ip, binary.BigEndian.Uint16(b[24:]))
}

// varInt decodes a variable-length integer and returns it and its size,
// or a size of 0 if p is too short.
func varInt(p []byte) (uint64, int) {
	if len(p) == 0 {
		return 0, 0
	}
	switch p[0] {
	case 0xfd:
		if len(p) >= 3 {
			return uint64(binary.LittleEndian.Uint16(p[1:])), 3
		}
	case 0xfe:
		if len(p) >= 5 {
			return uint64(binary.LittleEndian.Uint32(p[1:])), 5
		}
	case 0xff:
		if len(p) >= 9 {
			return binary.LittleEndian.Uint64(p[1:]), 9
		}
	default:
		return uint64(p[0]), 1
	}
	return 0, 0
}

// String describes the fields that do not change from run to run.
func (v *version) String() string {
	return fmt.Sprintf("protocol %d, user agent %s, height %d, from %v", v.Version, v.UserAgent, v.StartHeight, v.Sender)
}

// newVersion returns the version payload a node sends.
func newVersion(userAgent string, height int32, from, to netip.AddrPort, nonce uint64) *version {
	return &version{
		Version:     protocolVersion,
		Timestamp:   time.Now().Unix(),
		Receiver:    to,
		Sender:      from,
		Nonce:       nonce,
		UserAgent:   userAgent,
		StartHeight: height,
		Relay:       true,
	}
}

// nonce encodes the 8-byte payload of ping and pong.
func nonce(n uint64) []byte {
	return binary.LittleEndian.AppendUint64(nil, n)
}
