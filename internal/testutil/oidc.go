package testutil

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Authority is a certificate authority of a test's own.
type Authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// PEM is the CA's certificate, PEM-encoded.
	PEM []byte
}

var serial int64

// NewAuthority makes a self-signed certificate authority named name.
func NewAuthority(name string) (*Authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial++
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("creating the %s certificate: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Authority{cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// Issue signs a certificate for cn: a server certificate for 127.0.0.1 when server
// is set, else a client certificate.
func (a *Authority) Issue(cn string, server bool) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial++
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("signing a certificate for %s: %w", cn, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// WritePair writes a certificate and its key as PEM files in dir and returns their paths.
func WritePair(dir, name string, c tls.Certificate) (certFile, keyFile string, err error) {
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

// Issuer is an OpenID Connect issuer served over HTTPS by the test: its discovery
// document and its signing key, which kube-apiserver's JWT authenticator fetches to
// verify the people's tokens.
type Issuer struct {
	server *httptest.Server
	// URL is the issuer's URL, the iss claim of its tokens.
	URL string
	// CA signed the issuer's serving certificate.
	CA  *Authority
	key *rsa.PrivateKey
}

// keyID names the issuer's one signing key in its JWKS and its tokens' headers.
const keyID = "test-key"

// StartIssuer serves a new issuer on 127.0.0.1 until Close.
func StartIssuer() (*Issuer, error) {
	ca, err := NewAuthority("oidc-issuer-ca")
	if err != nil {
		return nil, err
	}
	serving, err := ca.Issue("127.0.0.1", true)
	if err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	iss := &Issuer{CA: ca, key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{
			"issuer":                                iss.URL,
			"jwks_uri":                              iss.URL + "/keys",
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "alg": "RS256", "use": "sig", "kid": keyID,
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	iss.server = httptest.NewUnstartedServer(mux)
	iss.server.TLS = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{serving}}
	iss.server.StartTLS()
	iss.URL = iss.server.URL
	return iss, nil
}

// Close stops serving the issuer.
func (iss *Issuer) Close() { iss.server.Close() }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Token signs an RS256 JWT for subject with the audiences, valid from a minute ago
// until expires.
func (iss *Issuer) Token(subject string, expires time.Time, audiences ...string) (string, error) {
	return SignJWT(iss.key, map[string]any{
		"iss": iss.URL,
		"sub": subject,
		"aud": audiences,
		"iat": time.Now().Add(-time.Minute).Unix(),
		"nbf": time.Now().Add(-time.Minute).Unix(),
		"exp": expires.Unix(),
	})
}

// SignJWT encodes claims as a compact JWS signed with RS256 (RFC 7515, RFC 7518 3.3).
func SignJWT(key *rsa.PrivateKey, claims map[string]any) (string, error) {
	enc := func(v any) (string, error) {
		b, err := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b), err
	}
	header, err := enc(map[string]string{"alg": "RS256", "typ": "JWT", "kid": keyID})
	if err != nil {
		return "", err
	}
	payload, err := enc(claims)
	if err != nil {
		return "", err
	}
	signed := header + "." + payload
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// AuthenticationConfig is kube-apiserver's structured authentication configuration
// (--authentication-config) that trusts the issuer's tokens for audiences, the
// person's user name being the sub claim as it is.
func AuthenticationConfig(iss *Issuer, audiences []string) ([]byte, error) {
	return json.Marshal(map[string]any{
		"apiVersion": "apiserver.config.k8s.io/v1",
		"kind":       "AuthenticationConfiguration",
		"jwt": []map[string]any{{
			"issuer": map[string]any{
				"url":                  iss.URL,
				"certificateAuthority": string(iss.CA.PEM),
				"audiences":            audiences,
				"audienceMatchPolicy":  "MatchAny",
			},
			"claimMappings": map[string]any{
				"username": map[string]string{"claim": "sub", "prefix": ""},
			},
		}},
	})
}

// JWTAuthentication returns the kube-apiserver configuration (localcluster's
// ConfigureAPIServer) that authenticates the issuer's tokens for audiences, from a
// structured authentication configuration written in dir, and accepts TokenReviews
// for apiAudience besides the audience of the cluster's own ServiceAccount tokens,
// which stays first.
func JWTAuthentication(iss *Issuer, dir string, audiences []string, apiAudience string) (func(*envtest.APIServer) error, error) {
	config, err := AuthenticationConfig(iss, audiences)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "authentication-config.json")
	if err := os.WriteFile(file, config, 0o600); err != nil {
		return nil, err
	}
	return func(s *envtest.APIServer) error {
		s.Configure().Set("authentication-config", file)
		s.Configure().Set("api-audiences", "https://kubernetes.default.svc,"+apiAudience)
		return nil
	}, nil
}
