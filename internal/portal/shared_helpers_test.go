package portal

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             sampleNow.Add(-time.Hour),
		NotAfter:              sampleNow.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// clientCert issues a client certificate with the common name cn.
func (ca testCA) clientCert(t *testing.T, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    sampleNow.Add(-time.Hour),
		NotAfter:     sampleNow.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// servingPair writes a self-signed serving certificate for 127.0.0.1 and its key,
// and returns their paths.
func servingPair(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(3),
		Subject:      pkix.Name{CommonName: "portal"},
		NotBefore:    sampleNow.Add(-time.Hour),
		NotAfter:     sampleNow.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "tls.crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		writeFile(t, "tls.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

// writeFile writes data to a file of the test's and returns its path.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// testToken is a JWT-shaped token for audiences, expiring at exp; its signature is
// nonsense: the fake TokenReview decides whether it authenticates.
func testToken(t *testing.T, subject string, exp time.Time, audiences ...string) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	var aud any = audiences
	if len(audiences) == 1 {
		aud = audiences[0]
	}
	return enc(map[string]string{"alg": "RS256"}) + "." + enc(map[string]any{"sub": subject, "aud": aud, "exp": exp.Unix()}) + ".c2ln"
}

// fakeReviews answer the shared portal's TokenReviews and SubjectAccessReviews as
// the test sets them, and record what was asked.
type fakeReviews struct {
	mu sync.Mutex
	// people are the TokenReview statuses of the tokens that authenticate.
	people map[string]authenticationv1.TokenReviewStatus
	// grants are the ConfigMaps each user may get.
	grants map[string]map[string]bool
	// err, when set, fails every review.
	err error

	tokenReviews  []authenticationv1.TokenReviewSpec
	accessReviews []authorizationv1.SubjectAccessReviewSpec
}

func (f *fakeReviews) grant(user, configMap string, allowed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.grants[user] == nil {
		f.grants[user] = map[string]bool{}
	}
	f.grants[user][configMap] = allowed
}

func (f *fakeReviews) counts() (tokens, access int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tokenReviews), len(f.accessReviews)
}

func (f *fakeReviews) install(client *fake.Clientset) {
	client.PrependReactor("create", "tokenreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		review := a.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenReview).DeepCopy()
		f.tokenReviews = append(f.tokenReviews, review.Spec)
		if f.err != nil {
			return true, nil, f.err
		}
		review.Status = f.people[review.Spec.Token]
		return true, review, nil
	})
	client.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		review := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview).DeepCopy()
		f.accessReviews = append(f.accessReviews, review.Spec)
		if f.err != nil {
			return true, nil, f.err
		}
		review.Status.Allowed = f.grants[review.Spec.User][review.Spec.ResourceAttributes.Name]
		return true, review, nil
	})
	client.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		review := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview).DeepCopy()
		review.Status.Allowed = review.Spec.ResourceAttributes.Resource != "subjectaccessreviews"
		return true, review, nil
	})
}

// sharedFixture is a shared portal over a fake API server that holds the allyship
// cohort's ConfigMaps, with one member, Casey, whose token authenticates.
type sharedFixture struct {
	server  *SharedServer
	client  *fake.Clientset
	reviews *fakeReviews
	clock   *clocktesting.FakeClock
	// caseyToken is Casey's token for the portal's audience.
	caseyToken string
}

func newSharedFixture(t *testing.T, edit func(*SharedOptions)) *sharedFixture {
	t.Helper()
	clk := clocktesting.NewFakeClock(sampleNow)
	client := fake.NewClientset(publishedConfigMaps(t, allyshipDocuments())...)
	f := &sharedFixture{client: client, clock: clk, caseyToken: testToken(t, "casey", sampleNow.Add(time.Hour), DefaultAudience)}
	f.reviews = &fakeReviews{
		people: map[string]authenticationv1.TokenReviewStatus{f.caseyToken: {
			Authenticated: true, Audiences: []string{DefaultAudience},
			User: authenticationv1.UserInfo{Username: "casey", UID: "c-1", Groups: []string{"allyship"}, Extra: map[string]authenticationv1.ExtraValue{"scopes": {"portal"}}},
		}},
		grants: map[string]map[string]bool{},
	}
	f.reviews.grant("casey", testOptions.OverviewConfigMap, true)
	f.reviews.install(client)
	opts := SharedOptions{Namespace: testNamespace, Clock: clk}
	if edit != nil {
		edit(&opts)
	}
	s, err := NewSharedServer(client, opts)
	if err != nil {
		t.Fatalf("NewSharedServer: %v", err)
	}
	f.server = s
	return f
}

// configMapGets counts the gets of ConfigMaps the portal made.
func (f *sharedFixture) configMapGets() int {
	n := 0
	for _, a := range f.client.Actions() {
		if a.GetVerb() == "get" && a.GetResource().Resource == "configmaps" {
			n++
		}
	}
	return n
}
