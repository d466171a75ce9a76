package portal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/cohort-dev/cohort-operator/internal/publish"
)

// Timeouts of the HTTP server and of one load. The portal serves small documents to
// people, so generous but bounded timeouts keep slow clients from holding connections.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	shutdownTimeout   = 10 * time.Second
	loadTimeout       = 10 * time.Second
	// firstRetry is the first pause after a failed load while no documents were ever
	// loaded; it doubles up to the refresh interval so that the portal becomes ready
	// soon after the manager published the documents.
	firstRetry = time.Second
)

// Server serves one cohort's documents. It holds the last documents its Source loaded
// successfully and keeps serving them when a later load fails.
type Server struct {
	source  Source
	cohort  string
	clock   clock.PassiveClock
	metrics *metrics
	current atomic.Pointer[snapshot]
}

// snapshot is one successful load, with what every request derives from it computed
// once.
type snapshot struct {
	docs         Documents
	loadedAt     time.Time
	rosterJSON   []byte
	rosterETag   string
	calendarETag string
}

// NewServer returns a Server for the cohort that loads its documents from source and
// reads the time from clk (the page marks the next event and hides ended ones).
// Nothing is loaded until Refresh or Serve runs.
func NewServer(source Source, cohort string, clk clock.PassiveClock) *Server {
	return &Server{source: source, cohort: cohort, clock: clk, metrics: newMetrics()}
}

// Refresh loads the documents once. On success the server serves them from then on;
// on failure it counts and returns the error and keeps the documents it had.
func (s *Server) Refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	snap, err := s.load(ctx)
	if err != nil {
		s.metrics.loadErrors.Inc()
		return err
	}
	s.current.Store(snap)
	s.metrics.lastLoad.Set(float64(snap.loadedAt.UnixNano()) / 1e9)
	return nil
}

// load loads and checks the documents and computes the snapshot.
func (s *Server) load(ctx context.Context) (*snapshot, error) {
	docs, err := s.source.Load(ctx)
	if err != nil {
		return nil, err
	}
	// A mismatch means the portal was pointed at another cohort's ConfigMaps.
	for _, got := range []string{docs.Roster.Cohort, docs.Overview.Cohort.Name} {
		if got != "" && got != s.cohort {
			return nil, fmt.Errorf("the documents belong to cohort %q, not %q", got, s.cohort)
		}
	}
	if docs.Roster.Members == nil {
		docs.Roster.Members = []publish.RosterEntry{}
	}
	roster, err := json.MarshalIndent(docs.Roster, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the roster: %w", err)
	}
	roster = append(roster, '\n')
	return &snapshot{
		docs:         docs,
		loadedAt:     s.clock.Now(),
		rosterJSON:   roster,
		rosterETag:   etag(roster),
		calendarETag: etag(docs.Calendar),
	}, nil
}

// Ready reports whether the documents were loaded at least once.
func (s *Server) Ready() bool { return s.current.Load() != nil }

// Serve loads the documents every refresh interval (DefaultRefresh when not positive)
// and serves HTTP on ln until ctx is done; then it shuts the server down gracefully
// and returns nil. It returns an error when the server fails.
func (s *Server) Serve(ctx context.Context, ln net.Listener, refresh time.Duration) error {
	if refresh <= 0 {
		refresh = DefaultRefresh
	}
	log := ctrl.LoggerFrom(ctx).WithValues("cohort", s.cohort)
	ctx = logr.NewContext(ctx, log)
	srv := newHTTPServer(ctx, s.Handler())
	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		s.poll(pollCtx, refresh)
	}()
	log.Info("serving the cohort portal", "address", ln.Addr().String(), "refresh", refresh.String())
	err := serveUntilDone(ctx, srv, func() error { return srv.Serve(ln) })
	stopPolling()
	<-polled
	return err
}

// poll refreshes the documents until ctx is done: at once, then every interval, and
// sooner (from firstRetry, doubling) while none were ever loaded.
func (s *Server) poll(ctx context.Context, every time.Duration) {
	log := logr.FromContextOrDiscard(ctx)
	retry := firstRetry
	for {
		wait := every
		if err := s.Refresh(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			if s.Ready() {
				log.Error(err, "refreshing the cohort's documents failed; serving the last good documents")
			} else {
				log.Error(err, "loading the cohort's documents failed; not ready yet", "retryIn", retry.String())
				wait, retry = min(retry, every), min(2*retry, every)
			}
		} else {
			log.V(1).Info("loaded the cohort's documents")
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
	}
}

// Handler returns the portal's HTTP handler: the overview page at /, /calendar.ics,
// /roster.json, /healthz, /readyz and /metrics. Every response carries the security
// headers; every request is counted by route and status code.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern, name string, h http.HandlerFunc) {
		mux.Handle(pattern, s.metrics.instrument(name, h))
	}
	route("GET /{$}", routeIndex, s.serveIndex)
	route("GET /calendar.ics", routeCalendar, s.serveCalendar)
	route("GET /roster.json", routeRoster, s.serveRoster)
	route("GET /reports/{file}", routeReport, s.serveReport)
	route("GET /healthz", routeHealthz, serveHealthz)
	route("GET /readyz", routeReadyz, s.serveReadyz)
	mux.Handle("GET /metrics", s.metrics.instrument(routeMetrics, s.metrics.handler()))
	route("/", routeOther, serveOther)
	return securityHeaders(mux)
}

// serveIndex renders the overview page for the current time.
func (s *Server) serveIndex(w http.ResponseWriter, r *http.Request) {
	snap := s.current.Load()
	if snap == nil {
		notLoaded(w)
		return
	}
	var buf bytes.Buffer
	if err := renderPage(&buf, buildPage(snap.docs, snap.loadedAt, s.clock.Now())); err != nil {
		logr.FromContextOrDiscard(r.Context()).Error(err, "rendering the overview page")
		http.Error(w, "The page could not be rendered.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "private, no-cache")
	_, _ = w.Write(buf.Bytes())
}

// serveCalendar serves the calendar as it was published.
func (s *Server) serveCalendar(w http.ResponseWriter, r *http.Request) {
	snap := s.current.Load()
	if snap == nil {
		notLoaded(w)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": s.cohort + ".ics"}))
	serveDocument(w, r, snap.calendarETag, snap.docs.Calendar)
}

// serveRoster serves the roster as JSON.
func (s *Server) serveRoster(w http.ResponseWriter, r *http.Request) {
	snap := s.current.Load()
	if snap == nil {
		notLoaded(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	serveDocument(w, r, snap.rosterETag, snap.rosterJSON)
}

// serveReport serves an approved report of the overview, as Markdown
// (/reports/2026-11.md) or CSV (/reports/2026-11.csv).
func (s *Server) serveReport(w http.ResponseWriter, r *http.Request) {
	snap := s.current.Load()
	if snap == nil {
		notLoaded(w)
		return
	}
	file := r.PathValue("file")
	period, format, _ := strings.Cut(file, ".")
	i := slices.IndexFunc(snap.docs.Overview.Reports, func(rep publish.Report) bool { return rep.Period == period })
	if i < 0 || (format != "md" && format != "csv") {
		plain(w, http.StatusNotFound, "no approved report of that period is published")
		return
	}
	report := snap.docs.Overview.Reports[i]
	body, contentType := publish.RenderReportMarkdown(report), "text/markdown; charset=utf-8"
	if format == "csv" {
		var err error
		if body, err = publish.RenderReportCSV(report); err != nil {
			http.Error(w, "The report could not be rendered.", http.StatusInternalServerError)
			return
		}
		contentType = "text/csv; charset=utf-8"
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": s.cohort + "-report-" + file}))
	sum := sha256.Sum256(body)
	serveDocument(w, r, `"`+hex.EncodeToString(sum[:16])+`"`, body)
}

// serveDocument serves a document with its ETag, so that clients can revalidate
// cheaply (http.ServeContent answers If-None-Match, HEAD and ranges).
func serveDocument(w http.ResponseWriter, r *http.Request, tag string, body []byte) {
	w.Header().Set("ETag", tag)
	w.Header().Set("Cache-Control", "private, no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// serveHealthz reports that the process is alive.
func serveHealthz(w http.ResponseWriter, _ *http.Request) {
	plain(w, http.StatusOK, "ok")
}

// serveReadyz reports ready once the documents were loaded at least once. A failed
// refresh later does not make the portal unready: it still serves the last good
// documents, and the load error metric tells that they are getting old.
func (s *Server) serveReadyz(w http.ResponseWriter, _ *http.Request) {
	if !s.Ready() {
		plain(w, http.StatusServiceUnavailable, "the cohort's documents were not loaded yet")
		return
	}
	plain(w, http.StatusOK, "ok")
}

// serveOther answers every other path: 404 for GET and HEAD, 405 for other methods
// (the portal is read-only).
func serveOther(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		plain(w, http.StatusMethodNotAllowed, "the portal is read-only")
		return
	}
	plain(w, http.StatusNotFound, "not found")
}

// notLoaded answers a document request before the first successful load.
func notLoaded(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	plain(w, http.StatusServiceUnavailable, "The cohort's documents are not loaded yet; try again in a few seconds.")
}

func plain(w http.ResponseWriter, code int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = fmt.Fprintln(w, text)
}

// securityHeaders sets the headers that keep browsers from loading anything but the
// page itself: the page has no scripts and no external assets, and its one stylesheet
// is allowed by its hash.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Content-Security-Policy", contentSecurityPolicy)
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("Referrer-Policy", "no-referrer")
		hdr.Set("X-Frame-Options", "DENY")
		hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
		hdr.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// etag is a strong entity tag of the body.
func etag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}
