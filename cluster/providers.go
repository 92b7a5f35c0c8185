package cluster

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/etcd"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
	"github.com/labstack/echo"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Membership provider names.
const (
	// ProviderLocal is an in-process membership: a one-member cluster.
	ProviderLocal = "local"
	// ProviderAutoManaged polls every peer's health endpoint (Config.Peers):
	// for a fixed set of nodes, e.g. a local cluster on loopback.
	ProviderAutoManaged = "automanaged"
	// ProviderEtcd keeps membership in etcd (Config.EtcdEndpoints): production.
	ProviderEtcd = "etcd"
)

// newProvider builds the membership provider named by cfg. Its closer stops
// what the provider started outside Proto.Actor's own shutdown.
func newProvider(cfg Config, self func() (*HealthModel, error)) (pcluster.ClusterProvider, func(), error) {
	switch cfg.Provider {
	case ProviderLocal:
		return test.NewTestProvider(test.NewInMemAgent()), func() {}, nil
	case ProviderAutoManaged:
		return newAutoManaged(cfg, self)
	case ProviderEtcd:
		p, err := etcd.NewWithConfig("/"+cfg.Name, clientv3.Config{Endpoints: cfg.EtcdEndpoints, DialTimeout: 2 * time.Second})
		if err != nil {
			return nil, nil, fmt.Errorf("cluster: etcd client: %w", err)
		}
		return p, func() {}, nil
	}
	return nil, nil, fmt.Errorf("%w: unknown provider %q", ErrConfig, cfg.Provider)
}

// HealthModel is what a node's automanaged endpoint answers: the member
// model the provider reads, plus the member ids this node's view holds
// (which the provider ignores, and evict.go reads to find splits).
type HealthModel struct {
	automanaged.NodeModel
	View []string `json:"view"`
}

// newAutoManaged builds the automanaged provider with its health endpoint
// bound to Config.Host (upstream binds 0.0.0.0; we hand it a listener of our
// own, so a node on loopback stays on loopback).
func newAutoManaged(cfg Config, self func() (*HealthModel, error)) (pcluster.ClusterProvider, func(), error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.AutoManagedPort)))
	if err != nil {
		return nil, nil, fmt.Errorf("cluster: automanaged listener: %w", err)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Listener = ln
	e.GET("/_health", func(c echo.Context) error {
		node, err := self()
		if err != nil {
			return c.NoContent(http.StatusServiceUnavailable)
		}
		return c.JSON(http.StatusOK, node)
	})
	p := automanaged.NewWithTesting(cfg.RefreshInterval, cfg.AutoManagedPort, e, cfg.Peers...)
	closer := func() {
		if err := e.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = ln.Close()
		}
	}
	return p, closer, nil
}
