package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// The test targets of a [Detector] whose Target or NameTarget is empty,
// as aiorpcX's.
const (
	DefaultDetectTarget     = "8.8.8.8:53"
	DefaultDetectNameTarget = "www.apple.com:80"
)

// Detector finds which SOCKS protocol a proxy speaks (aiorpcX's
// auto_detect_at_address and auto_detect_at_host) by asking it for a
// connection to a test target in each protocol in turn: SOCKS5, then
// SOCKS4a, then SOCKS4. A connection made is closed at once.
//
// A proxy that answers in SOCKS5 or SOCKS4 counts as detected even if
// it refuses the test target, so a proxy without a route to the
// Internet is still found. A SOCKS4a probe counts only if the proxy
// connects to NameTarget: a refusal of a host name is also what a
// SOCKS4 proxy that knows nothing of SOCKS4a answers (aiorpcX counts
// it, and so reports such a proxy as SOCKS4a). Finding a proxy does
// not mean that it works.
//
// The zero Detector probes without credentials, with aiorpcX's test
// targets. A Detector may be used by several goroutines at once.
type Detector struct {
	// Auth is the credentials for the probes and for the SOCKS
	// returned.
	Auth Auth
	// Target is the IPv4 "address:port" asked for in SOCKS5 and SOCKS4
	// (DefaultDetectTarget when empty).
	Target string
	// NameTarget is the "hostname:port" asked for in SOCKS4a
	// (DefaultDetectNameTarget when empty).
	NameTarget string
	// Timeout bounds each probe, as [SOCKS.Timeout]; it is also the
	// Timeout of the SOCKS returned.
	Timeout time.Duration
	// Forward makes the connections to the proxy, as [SOCKS.Forward];
	// it is also the Forward of the SOCKS returned.
	Forward ContextDialer
}

// Detect finds the protocol of the proxy at address ("host:port"). It
// returns the proxy as a *SOCKS with that Protocol and the Detector's
// Auth, Timeout and Forward, host names to be resolved by the proxy.
// If the proxy cannot be reached, the other protocols are not tried.
//
// If no protocol is detected, the error matches ErrNotDetected and
// holds each probe's error (an [*Error]). If ctx ends first, the
// error is ctx's.
func (d *Detector) Detect(ctx context.Context, address string) (*SOCKS, error) {
	probes, err := d.probes()
	if err != nil {
		return nil, err
	}
	var failed notDetectedError
	if s := d.detect(ctx, address, probes, &failed); s != nil {
		return s, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return nil, failed
}

// DetectHost is Detect at each port of host in turn (for Tor: 9050, the
// daemon, and 9150, the Tor Browser), returning the first proxy
// detected. The error after all fail holds every probe's error.
func (d *Detector) DetectHost(ctx context.Context, host string, ports ...int) (*SOCKS, error) {
	if len(ports) == 0 {
		return nil, errors.New("proxy: DetectHost without ports")
	}
	for _, port := range ports {
		if port < 1 || port > 65535 {
			return nil, fmt.Errorf("proxy: port %d out of range", port)
		}
	}
	probes, err := d.probes()
	if err != nil {
		return nil, err
	}
	var failed notDetectedError
	for _, port := range ports {
		if s := d.detect(ctx, net.JoinHostPort(host, strconv.Itoa(port)), probes, &failed); s != nil {
			return s, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return nil, failed
}

// probe is one protocol to try and the target to ask for.
type probe struct {
	protocol Protocol
	target   target
}

// probes checks the Detector's settings and returns the probes in
// order.
func (d *Detector) probes() ([]probe, error) {
	if err := d.Auth.check(SOCKS4); err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	text, nameText := d.Target, d.NameTarget
	if text == "" {
		text = DefaultDetectTarget
	}
	if nameText == "" {
		nameText = DefaultDetectNameTarget
	}
	ip, err := parseTarget(text)
	switch {
	case err != nil:
		return nil, fmt.Errorf("proxy: detection target: %w", err)
	case !ip.addr.Is4():
		return nil, fmt.Errorf("proxy: detection target %s is not an IPv4 address and port", text)
	}
	name, err := parseTarget(nameText)
	switch {
	case err != nil:
		return nil, fmt.Errorf("proxy: detection name target: %w", err)
	case name.addr.IsValid() && !name.addr.Is4():
		return nil, fmt.Errorf("proxy: detection name target %s is an IPv6 address", nameText)
	}
	return []probe{{SOCKS5, ip}, {SOCKS4a, name}, {SOCKS4, ip}}, nil
}

// detect runs the probes against the proxy at address and returns the
// proxy detected, or nil after adding each probe's error to failed.
func (d *Detector) detect(ctx context.Context, address string, probes []probe, failed *notDetectedError) *SOCKS {
	for _, p := range probes {
		s := &SOCKS{Protocol: p.protocol, Address: address, Auth: d.Auth, Timeout: d.Timeout, Forward: d.Forward}
		c, reached, err := s.dialOnce(ctx, p.target)
		if err == nil {
			c.Close()
			return s
		}
		if ctx.Err() != nil {
			return nil
		}
		var refused *RefusedError
		if p.protocol != SOCKS4a && errors.As(err, &refused) {
			return s
		}
		*failed = append(*failed, &Error{Proxy: s.String(), Target: p.target.String(), Err: err})
		if !reached {
			return nil
		}
	}
	return nil
}

// notDetectedError is the error of a detection that found nothing: it
// matches ErrNotDetected and holds each probe's error.
type notDetectedError []error

// Error returns "proxy: no SOCKS proxy detected: PROBE ERROR; ...".
func (e notDetectedError) Error() string {
	var b strings.Builder
	b.WriteString("proxy: ")
	b.WriteString(ErrNotDetected.Error())
	for i, err := range e {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(strings.TrimPrefix(err.Error(), "proxy: "))
	}
	return b.String()
}

// Unwrap returns ErrNotDetected and each probe's error.
func (e notDetectedError) Unwrap() []error {
	return append([]error{ErrNotDetected}, e...)
}
