// Package testcert makes self-signed TLS certificates at test time, for
// the tests of several gorpcx packages. Nothing is read from or written
// to disk.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"time"
)

// TB is the part of testing.TB that New needs.
type TB interface {
	Helper()
	Fatal(args ...any)
}

// New returns a self-signed ECDSA P-256 certificate valid for an hour
// for 127.0.0.1, ::1 and the DNS names given (or "gorpcx.test" when none
// are), and a pool that trusts it. It fails t on any error.
func New(t TB, dnsNames ...string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	if len(dnsNames) == 0 {
		dnsNames = []string{"gorpcx.test"}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: dnsNames[0]},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              dnsNames,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// Configs returns a server and a client TLS configuration that trust
// each other through a certificate from New.
func Configs(t TB) (server, client *tls.Config) {
	t.Helper()
	cert, pool := New(t)
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}
