package portal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// newHTTPServer returns an HTTP server for h with the portal's timeouts. Requests in
// flight keep ctx's values, and are not cancelled with it, during the graceful shutdown.
func newHTTPServer(ctx context.Context, h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
}

// serveUntilDone runs serve (srv.Serve or srv.ServeTLS on a listener) until it fails
// or ctx is done; then it shuts srv down, giving requests in flight shutdownTimeout to
// finish, and returns nil. It returns an error when serving or shutting down failed.
func serveUntilDone(ctx context.Context, srv *http.Server, serve func() error) error {
	served := make(chan error, 1)
	go func() { served <- serve() }()
	select {
	case err := <-served:
		return fmt.Errorf("serving the portal: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	var err error
	if shutdownErr := srv.Shutdown(shutdownCtx); shutdownErr != nil {
		err = fmt.Errorf("shutting the portal down: %w", shutdownErr)
	}
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = fmt.Errorf("serving the portal: %w", serveErr)
	}
	return err
}
