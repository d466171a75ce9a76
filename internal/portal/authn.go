package portal

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
)

// Reasons an authentication fails, as the metrics label them.
const (
	// reasonNoCredentials: neither a bearer token nor identity headers.
	reasonNoCredentials = "no_credentials"
	// reasonTokenRefused: the token is not a JWT for the portal's audience, or the
	// API server's TokenReview did not authenticate it for that audience.
	reasonTokenRefused = "token_refused"
	// reasonProxyWithoutCertificate: identity headers on a connection without a client
	// certificate that verifies against the proxy CA.
	reasonProxyWithoutCertificate = "proxy_without_certificate"
	// reasonProxyNameNotAllowed: identity headers from a proxy whose certificate
	// verifies but whose common name is not in the allowed names.
	reasonProxyNameNotAllowed = "proxy_name_not_allowed"
	// reasonReviewFailed: the TokenReview could not be made (the API server did not
	// answer); nothing is cached.
	reasonReviewFailed = "review_failed"
)

// authenticatedGroup is the group the API server adds to every authenticated user;
// the portal adds it too, so that a SubjectAccessReview asks about the person as
// the API server would see them on a request of their own.
const authenticatedGroup = "system:authenticated"

// identity is the person a request comes from, as the SubjectAccessReview names them.
type identity struct {
	User   string              `json:"user"`
	UID    string              `json:"uid,omitempty"`
	Groups []string            `json:"groups,omitempty"`
	Extra  map[string][]string `json:"extra,omitempty"`
}

// withAuthenticatedGroup returns the identity with authenticatedGroup among its groups.
func (id identity) withAuthenticatedGroup() identity {
	if !slices.Contains(id.Groups, authenticatedGroup) {
		id.Groups = append(slices.Clone(id.Groups), authenticatedGroup)
	}
	return id
}

// ProxyOptions configure the identity headers of an authenticating proxy, as
// kube-apiserver's --requestheader-* flags do. The headers are trusted only on a TLS
// connection whose client certificate verifies against the CA in ClientCAFile (and
// whose common name is in AllowedNames, when set).
type ProxyOptions struct {
	// ClientCAFile is the PEM bundle of the CA that signs the proxy's client
	// certificates. Empty disables the headers: a request that carries them is refused.
	ClientCAFile string
	// AllowedNames, when set, are the only common names of proxy certificates trusted.
	AllowedNames []string
	// UsernameHeader, UIDHeader and GroupHeader name the person, their uid and their
	// groups (one group per header value); ExtraHeaderPrefix starts the headers of
	// their extra attributes (the key follows it, percent-encoded).
	UsernameHeader, UIDHeader, GroupHeader, ExtraHeaderPrefix string
}

// Defaults of ProxyOptions' headers, as kube-apiserver's common configuration names them.
const (
	DefaultUsernameHeader    = "X-Remote-User"
	DefaultUIDHeader         = "X-Remote-Uid"
	DefaultGroupHeader       = "X-Remote-Group"
	DefaultExtraHeaderPrefix = "X-Remote-Extra-"
)

func (p ProxyOptions) withDefaults() ProxyOptions {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&p.UsernameHeader, DefaultUsernameHeader)
	def(&p.UIDHeader, DefaultUIDHeader)
	def(&p.GroupHeader, DefaultGroupHeader)
	def(&p.ExtraHeaderPrefix, DefaultExtraHeaderPrefix)
	return p
}

// authenticator finds who a request comes from: from an authenticating proxy's
// identity headers on a verified connection, or from a bearer token that the API
// server's TokenReview authenticates for the portal's audience. It never trusts the
// source address.
type authenticator struct {
	client   kubernetes.Interface
	audience string
	ttl      time.Duration
	clock    clock.PassiveClock
	// tokens are TokenReview outcomes by the SHA-256 of the token, never the token.
	tokens *ttlCache[tokenOutcome]
	proxy  ProxyOptions
	// proxyCAs verify proxy certificates; nil when the headers are disabled.
	proxyCAs *x509.CertPool
}

// tokenOutcome is a remembered TokenReview: the identity when it authenticated.
type tokenOutcome struct {
	id            identity
	authenticated bool
}

// authentication is what authenticate found: an identity, or the reason it found none.
type authentication struct {
	id identity
	// reason is empty when the request is authenticated.
	reason string
	// err is set when the API server could not be asked.
	err error
}

// authenticate finds the request's identity. Identity headers take precedence over a
// token and are refused unless the connection carries a verified proxy certificate.
func (a *authenticator) authenticate(r *http.Request) authentication {
	if a.hasIdentityHeaders(r) {
		return a.fromProxy(r)
	}
	token, ok := bearerToken(r)
	if !ok {
		return authentication{reason: reasonNoCredentials}
	}
	return a.fromToken(r, token)
}

// hasIdentityHeaders reports whether the request carries any of the proxy's identity
// headers, whether or not the proxy is configured.
func (a *authenticator) hasIdentityHeaders(r *http.Request) bool {
	for name := range r.Header {
		if strings.EqualFold(name, a.proxy.UsernameHeader) || strings.EqualFold(name, a.proxy.UIDHeader) ||
			strings.EqualFold(name, a.proxy.GroupHeader) || hasPrefixFold(name, a.proxy.ExtraHeaderPrefix) {
			return true
		}
	}
	return false
}

// fromProxy reads the identity headers of a request whose connection carries a
// client certificate that verifies against the proxy CA.
func (a *authenticator) fromProxy(r *http.Request) authentication {
	if a.proxyCAs == nil || r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return authentication{reason: reasonProxyWithoutCertificate}
	}
	leaf := r.TLS.PeerCertificates[0]
	intermediates := x509.NewCertPool()
	for _, c := range r.TLS.PeerCertificates[1:] {
		intermediates.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots:         a.proxyCAs,
		Intermediates: intermediates,
		CurrentTime:   a.clock.Now(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		return authentication{reason: reasonProxyWithoutCertificate}
	}
	if len(a.proxy.AllowedNames) > 0 && !slices.Contains(a.proxy.AllowedNames, leaf.Subject.CommonName) {
		return authentication{reason: reasonProxyNameNotAllowed}
	}
	user := strings.TrimSpace(r.Header.Get(a.proxy.UsernameHeader))
	if user == "" {
		return authentication{reason: reasonNoCredentials}
	}
	id := identity{User: user, UID: r.Header.Get(a.proxy.UIDHeader), Groups: r.Header.Values(a.proxy.GroupHeader)}
	for name, values := range r.Header {
		if !hasPrefixFold(name, a.proxy.ExtraHeaderPrefix) {
			continue
		}
		key, err := url.PathUnescape(name[len(a.proxy.ExtraHeaderPrefix):])
		if err != nil || key == "" {
			continue
		}
		if id.Extra == nil {
			id.Extra = map[string][]string{}
		}
		key = strings.ToLower(key)
		id.Extra[key] = append(id.Extra[key], values...)
	}
	return authentication{id: id.withAuthenticatedGroup()}
}

// fromToken authenticates a bearer token: only a JWT whose aud claim names the
// portal's audience, and only when a TokenReview for that audience authenticates it
// and lists the audience. The API server's JWT authenticators are audience agnostic
// (a TokenReview's audiences are matched against the API server's own --api-audiences,
// not the token's aud claim), so without the portal's own check a token issued for
// another audience that the API server also accepts would pass. The claims are read
// only to refuse early and to bound the cache; the TokenReview is what verifies them.
func (a *authenticator) fromToken(r *http.Request, token string) authentication {
	sum := sha256.Sum256([]byte(token))
	key := hex.EncodeToString(sum[:])
	if got, ok := a.tokens.get(key); ok {
		if !got.authenticated {
			return authentication{reason: reasonTokenRefused}
		}
		return authentication{id: got.id}
	}
	claims, ok := unverifiedClaims(token)
	if !ok || !slices.Contains(claims.Audience, a.audience) {
		// Nothing was asked of the API server: not worth a cache entry.
		return authentication{reason: reasonTokenRefused}
	}
	review, err := a.client.AuthenticationV1().TokenReviews().Create(r.Context(), &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: token, Audiences: []string{a.audience}},
	}, metav1.CreateOptions{})
	if err != nil {
		return authentication{reason: reasonReviewFailed, err: fmt.Errorf("creating a TokenReview for audience %q: %w", a.audience, err)}
	}
	st := review.Status
	outcome := tokenOutcome{authenticated: st.Authenticated && st.User.Username != "" && slices.Contains(st.Audiences, a.audience)}
	if outcome.authenticated {
		outcome.id = identity{User: st.User.Username, UID: st.User.UID, Groups: st.User.Groups}.withAuthenticatedGroup()
		for k, v := range st.User.Extra {
			if outcome.id.Extra == nil {
				outcome.id.Extra = map[string][]string{}
			}
			outcome.id.Extra[k] = v
		}
	}
	expires := a.clock.Now().Add(a.ttl)
	if claims.Expiry != nil && claims.Expiry.Before(expires) {
		expires = *claims.Expiry
	}
	a.tokens.set(key, outcome, expires)
	if !outcome.authenticated {
		return authentication{reason: reasonTokenRefused}
	}
	return authentication{id: outcome.id}
}

// strip removes the credentials and identity headers from the request once it is
// authenticated, so that nothing that serves it can read or forward them.
func (a *authenticator) strip(r *http.Request) {
	r.Header.Del("Authorization")
	for name := range r.Header {
		if strings.EqualFold(name, a.proxy.UsernameHeader) || strings.EqualFold(name, a.proxy.UIDHeader) ||
			strings.EqualFold(name, a.proxy.GroupHeader) || hasPrefixFold(name, a.proxy.ExtraHeaderPrefix) {
			delete(r.Header, name)
		}
	}
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// jwtClaims are the claims the portal reads from a token before it is reviewed.
type jwtClaims struct {
	Audience audience `json:"aud"`
	Exp      *float64 `json:"exp"`
	// Expiry is Exp as a time, nil without one.
	Expiry *time.Time `json:"-"`
}

// audience is a JWT's aud claim: one string or an array of them (RFC 7519 4.1.3).
type audience []string

// UnmarshalJSON accepts both forms of the claim.
func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("the aud claim is neither a string nor an array of strings: %w", err)
	}
	*a = many
	return nil
}

// unverifiedClaims decodes the claims of a compact JWS without checking its
// signature; false when the token is not one.
func unverifiedClaims(token string) (jwtClaims, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return jwtClaims{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return jwtClaims{}, false
	}
	var c jwtClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return jwtClaims{}, false
	}
	if c.Exp != nil {
		exp := time.Unix(int64(*c.Exp), 0)
		c.Expiry = &exp
	}
	return c, true
}

func hasPrefixFold(s, prefix string) bool {
	return prefix != "" && len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
