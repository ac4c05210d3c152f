package tlsprobe

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"software.sslmate.com/src/go-pkcs12"
)

// Identity is a transport identity loaded from files: what a node of the
// cluster presents (clusters[].transport.cert_file/key_file, or
// keystore_file/keystore_password_file).
type Identity struct {
	// Certificate is ready for Options.ClientCertificate (chain and key,
	// Leaf set).
	Certificate tls.Certificate
	// Chain is the presented chain, leaf first.
	Chain []*x509.Certificate
	// Others are further certificates of the file that are not part of the
	// chain, e.g. a keystore's trusted CA entries (Elasticsearch uses the
	// same PKCS#12 file as truststore, as elasticsearch-certutil's
	// elastic-certificates.p12 setup does).
	Others []*x509.Certificate
}

// ParseCertificatesPEM parses every CERTIFICATE block of a PEM bundle (other
// blocks are skipped) and fails when there is none.
func ParseCertificatesPEM(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block found")
	}
	return out, nil
}

// LoadCABundle reads a PEM file of trusted CA certificates
// (clusters[].transport.ca_file, Elasticsearch's certificate_authorities).
func LoadCABundle(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	certs, err := ParseCertificatesPEM(data)
	if err != nil {
		return nil, fmt.Errorf("CA file %s: %w", path, err)
	}
	return certs, nil
}

// LoadPEMIdentity reads a PEM certificate file (leaf first, then any
// intermediates, as Elasticsearch's ssl.certificate) and an unencrypted PEM
// private key (PKCS#8, PKCS#1 or SEC 1).
func LoadPEMIdentity(certFile, keyFile string) (Identity, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return Identity{}, fmt.Errorf("read certificate file: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return Identity{}, fmt.Errorf("read key file: %w", err)
	}
	certs, err := ParseCertificatesPEM(certPEM)
	if err != nil {
		return Identity{}, fmt.Errorf("certificate file %s: %w", certFile, err)
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return Identity{}, fmt.Errorf("key file %s: %w", keyFile, err)
	}
	id, err := identity(key, certs)
	if err != nil {
		return Identity{}, fmt.Errorf("%s and %s: %w", certFile, keyFile, err)
	}
	return id, nil
}

func parseKeyPEM(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM private key block found")
		}
		switch b.Type {
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("the private key is encrypted; provide an unencrypted key or a PKCS#12 keystore with its password")
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, err
			}
			s, ok := k.(crypto.Signer)
			if !ok {
				return nil, fmt.Errorf("unsupported private key type %T", k)
			}
			return s, nil
		case "RSA PRIVATE KEY":
			if _, encrypted := b.Headers["DEK-Info"]; encrypted {
				return nil, errors.New("the private key is encrypted; provide an unencrypted key or a PKCS#12 keystore with its password")
			}
			return x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			if _, encrypted := b.Headers["DEK-Info"]; encrypted {
				return nil, errors.New("the private key is encrypted; provide an unencrypted key or a PKCS#12 keystore with its password")
			}
			return x509.ParseECPrivateKey(b.Bytes)
		}
	}
}

// LoadPKCS12Identity reads a PKCS#12 keystore (.p12/.pfx) with one private
// key entry, as elasticsearch-certutil writes them. The chain is rebuilt
// from the certificate whose public key matches the private key; other
// certificates land in Others.
func LoadPKCS12Identity(path, password string) (Identity, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Identity{}, fmt.Errorf("read keystore: %w", err)
	}
	key, first, rest, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) {
			return Identity{}, fmt.Errorf("keystore %s: wrong password (check keystore_password_file)", path)
		}
		return Identity{}, fmt.Errorf("keystore %s: %w", path, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return Identity{}, fmt.Errorf("keystore %s: unsupported private key type %T", path, key)
	}
	id, err := identity(signer, append([]*x509.Certificate{first}, rest...))
	if err != nil {
		return Identity{}, fmt.Errorf("keystore %s: %w", path, err)
	}
	return id, nil
}

// identity orders certs into leaf (the one matching key) and its issuer
// chain; the rest go to Others.
func identity(key crypto.Signer, certs []*x509.Certificate) (Identity, error) {
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return Identity{}, fmt.Errorf("private key: %w", err)
	}
	leafIdx := -1
	for i, c := range certs {
		if bytes.Equal(c.RawSubjectPublicKeyInfo, pub) {
			leafIdx = i
			break
		}
	}
	if leafIdx < 0 {
		return Identity{}, errors.New("no certificate matches the private key")
	}
	used := map[int]bool{leafIdx: true}
	chain := []*x509.Certificate{certs[leafIdx]}
	for {
		cur := chain[len(chain)-1]
		if bytes.Equal(cur.RawSubject, cur.RawIssuer) {
			break
		}
		next := -1
		for i, c := range certs {
			if !used[i] && bytes.Equal(c.RawSubject, cur.RawIssuer) && cur.CheckSignatureFrom(c) == nil {
				next = i
				break
			}
		}
		if next < 0 {
			break
		}
		used[next] = true
		chain = append(chain, certs[next])
	}
	id := Identity{Chain: chain}
	for i, c := range certs {
		if !used[i] {
			id.Others = append(id.Others, c)
		}
	}
	id.Certificate = tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, c := range chain {
		id.Certificate.Certificate = append(id.Certificate.Certificate, c.Raw)
	}
	return id, nil
}
