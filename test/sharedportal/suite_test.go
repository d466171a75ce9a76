// Package sharedportal runs the shared portal (internal/portal.SharedServer) against a
// real kube-apiserver that authenticates people by bearer tokens from an OpenID
// Connect issuer the suite serves itself, with the operator's manager provisioning the
// cohorts and the members' Roles. The portal acts as its ServiceAccount, bound to
// exactly the rules the portal documents, and every access rule is checked with real
// tokens, real TokenReviews and SubjectAccessReviews, and real TLS.
package sharedportal

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/portal"
	"github.com/cohort-dev/cohort-operator/internal/testmanager"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// namespace holds the suite's cohorts; the shared portal serves it.
const namespace = "learning"

// otherAudience is the second audience the API server's JWT authenticator accepts:
// tokens for it are valid credentials of the cluster, but not for the portal.
const otherAudience = "other-app"

// portalServiceAccount is the shared portal's identity.
const portalServiceAccount = "cohort-portal-shared"

// proxyName is the common name of the authenticating proxy's client certificate, the
// one name the portal allows.
const proxyName = "front-proxy"

// now is the manager's clock: within the cohorts' terms.
var now = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

var (
	admin client.Client
	iss   *testutil.Issuer
	// portalURL is where the shared portal serves, over TLS.
	portalURL string
	// anonymous trusts the portal's certificate and presents none of its own;
	// viaProxy presents the proxy's certificate; viaOtherCA a certificate of another
	// CA with the proxy's name; viaOtherName one of the proxy CA with another name.
	anonymous, viaProxy, viaOtherCA, viaOtherName *http.Client
)

func TestMain(m *testing.M) {
	testutil.SetLogger()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		_ = os.Setenv("KUBEBUILDER_ASSETS", testutil.Path("bin", "k8s"))
	}
	dir, err := os.MkdirTemp("", "sharedportal-")
	if err != nil {
		return fail("making a folder", err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if iss, err = testutil.StartIssuer(); err != nil {
		return fail("starting the OIDC issuer", err)
	}
	defer iss.Close()
	cluster, err := startCluster(dir)
	if err != nil {
		return fail("starting the local cluster", err)
	}
	defer func() {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the local cluster:", err)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if admin, err = client.New(cluster.Config, client.Options{Scheme: testutil.Scheme()}); err != nil {
		return fail("the administrator's client", err)
	}
	managerConfig, err := testmanager.Grant(ctx, cluster, admin)
	if err != nil {
		return fail("granting the manager", err)
	}
	mgr, err := testmanager.Start(ctx, testmanager.Options{Config: managerConfig, Clock: clocktesting.NewFakeClock(now)})
	if err != nil {
		return fail("starting the manager", err)
	}
	defer func() {
		if err := mgr.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "the manager stopped with:", err)
		}
	}()
	stopPortal, err := startPortal(ctx, cluster.Config, dir)
	if err != nil {
		return fail("starting the shared portal", err)
	}
	defer stopPortal()
	return m.Run()
}

func fail(what string, err error) int {
	fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
	return 1
}

// startCluster starts kube-apiserver with the operator's CRDs and an authentication
// configuration that trusts the suite's issuer for the portal's audience and
// otherAudience. --api-audiences lists the portal's audience: the API server matches
// a TokenReview's audiences against it (its JWT authenticators are audience agnostic),
// so a TokenReview for the portal's audience authenticates these tokens only then.
func startCluster(dir string) (*localcluster.Cluster, error) {
	authentication, err := testutil.JWTAuthentication(iss, dir, []string{portal.DefaultAudience, otherAudience}, portal.DefaultAudience)
	if err != nil {
		return nil, err
	}
	return localcluster.Start(localcluster.Options{
		Dir:                filepath.Join(dir, "cluster"),
		CRDDirs:            []string{testutil.Path("config", "crd", "bases")},
		ConfigureAPIServer: authentication,
	})
}

// startPortal binds the shared portal's RBAC (portal.SharedClusterRules and
// portal.SharedNamespaceRules, nothing more) to its ServiceAccount, starts it acting
// as that ServiceAccount with TLS and the proxy CA, builds the suite's HTTP clients
// and waits until the portal is ready. The returned func stops it.
func startPortal(ctx context.Context, adminConfig *rest.Config, dir string) (func(), error) {
	if err := grantPortal(ctx); err != nil {
		return nil, err
	}
	servingCA, err := testutil.NewAuthority("portal-serving-ca")
	if err != nil {
		return nil, err
	}
	serving, err := servingCA.Issue("127.0.0.1", true)
	if err != nil {
		return nil, err
	}
	certFile, keyFile, err := testutil.WritePair(dir, "portal", serving)
	if err != nil {
		return nil, err
	}
	proxyCA, err := testutil.NewAuthority("front-proxy-ca")
	if err != nil {
		return nil, err
	}
	proxyCAFile := filepath.Join(dir, "front-proxy-ca.crt")
	if err := os.WriteFile(proxyCAFile, proxyCA.PEM, 0o600); err != nil {
		return nil, err
	}
	if err := buildClients(servingCA, proxyCA); err != nil {
		return nil, err
	}

	cfg := rest.CopyConfig(adminConfig)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + namespace + ":" + portalServiceAccount}
	clientset, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	portalURL = "https://" + ln.Addr().String()
	portalCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- portal.RunShared(portalCtx, clientset, portal.SharedOptions{
			Namespace:   namespace,
			Listener:    ln,
			TLSCertFile: certFile,
			TLSKeyFile:  keyFile,
			Proxy:       portal.ProxyOptions{ClientCAFile: proxyCAFile, AllowedNames: []string{proxyName}},
		})
	}()
	stopAndWait := func() {
		stop()
		if err := <-done; err != nil {
			fmt.Fprintln(os.Stderr, "the shared portal stopped with:", err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body, err := fetch(anonymous, "/readyz")
		if err == nil && code == http.StatusOK {
			return stopAndWait, nil
		}
		if time.Now().After(deadline) {
			stopAndWait()
			return nil, fmt.Errorf("the shared portal is not ready within 30s: %d %q: %w", code, body, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// grantPortal creates the portal's namespace and ServiceAccount and binds the rules
// the portal documents: a ClusterRole with a ClusterRoleBinding, a Role with a
// RoleBinding in the namespace.
func grantPortal(ctx context.Context) error {
	subject := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: portalServiceAccount, Namespace: namespace}}
	ref := func(kind string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: portalServiceAccount}
	}
	meta := metav1.ObjectMeta{Name: portalServiceAccount, Namespace: namespace}
	for _, obj := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}},
		&corev1.ServiceAccount{ObjectMeta: meta},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: portalServiceAccount}, Rules: portal.SharedClusterRules()},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: portalServiceAccount}, RoleRef: ref("ClusterRole"), Subjects: subject},
		&rbacv1.Role{ObjectMeta: meta, Rules: portal.SharedNamespaceRules()},
		&rbacv1.RoleBinding{ObjectMeta: meta, RoleRef: ref("Role"), Subjects: subject},
	} {
		if err := admin.Create(ctx, obj); err != nil {
			return fmt.Errorf("creating %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return nil
}

// buildClients makes the suite's HTTP clients, each with a transport of its own.
func buildClients(servingCA, proxyCA *testutil.Authority) error {
	otherCA, err := testutil.NewAuthority("other-ca")
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(servingCA.PEM)
	newClient := func(certs ...tls.Certificate) *http.Client {
		return &http.Client{
			Timeout: 15 * time.Second,
			Transport: &http.Transport{TLSClientConfig: &tls.Config{
				MinVersion: tls.VersionTLS12, RootCAs: roots, Certificates: certs,
			}},
			// The tests look at redirects themselves.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	proxyCert, err := proxyCA.Issue(proxyName, false)
	if err != nil {
		return err
	}
	foreignCert, err := otherCA.Issue(proxyName, false)
	if err != nil {
		return err
	}
	otherNameCert, err := proxyCA.Issue("not-the-proxy", false)
	if err != nil {
		return err
	}
	anonymous, viaProxy = newClient(), newClient(proxyCert)
	viaOtherName = newClient(otherNameCert)
	// A Go client sends no certificate that the server's list of acceptable CAs
	// excludes; this one sends it anyway, as a hostile client would.
	viaOtherCA = newClient()
	viaOtherCA.Transport.(*http.Transport).TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &foreignCert, nil
	}
	return nil
}

// fetch GETs path from the portal with header (name, value pairs) and returns the
// status code and body.
func fetch(c *http.Client, path string, header ...string) (int, string, error) {
	res, err := fetchResponse(c, path, header...)
	if err != nil {
		return 0, "", err
	}
	return res.code, res.body, nil
}

// response is a portal response.
type response struct {
	code   int
	header http.Header
	body   string
}

func fetchResponse(c *http.Client, path string, header ...string) (response, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, portalURL+path, nil)
	if err != nil {
		return response{}, err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer func() { _ = res.Body.Close() }()
	var b strings.Builder
	if _, err := io.Copy(&b, res.Body); err != nil {
		return response{}, errors.Join(fmt.Errorf("reading the body of %s", path), err)
	}
	return response{code: res.StatusCode, header: res.Header, body: b.String()}, nil
}
