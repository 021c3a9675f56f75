// Package devchain owns the embedded EVM development chain of `custos dev` and
// of the end-to-end tests: go-ethereum's simulated backend with its JSON-RPC
// served over HTTP on loopback, and a loop that seals a block as soon as the
// transaction pool holds executable transactions, so a transaction sent to the
// node is mined within tens of milliseconds without anyone calling Commit.
package devchain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/rpc"
)

// ChainID is the chain id of go-ethereum's simulated backend; it cannot be changed.
const ChainID = 1337

// Defaults of Options.
const (
	DefaultHost         = "127.0.0.1"
	DefaultPollInterval = 20 * time.Millisecond
	DefaultBlockPeriod  = 5 * time.Second
	// DefaultGasLimit admits a few thousand transfers per block, so a burst of
	// signed transactions is mined in one or two blocks.
	DefaultGasLimit = 150_000_000
)

// Ether is 10^18 wei.
var Ether = new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)

// Options configure Start.
type Options struct {
	// Alloc is the genesis balance of each funded account, in wei.
	Alloc map[common.Address]*big.Int
	// Host is the interface the JSON-RPC listens on (DefaultHost).
	Host string
	// Port is the JSON-RPC port; 0 picks a free one.
	Port int
	// PollInterval is how often the pool is checked for transactions to mine.
	PollInterval time.Duration
	// BlockPeriod seals a block even when the pool is empty, so block time moves.
	BlockPeriod time.Duration
	// GasLimit is the block gas limit (DefaultGasLimit).
	GasLimit uint64
	// Logger receives sealing errors; nil discards.
	Logger *slog.Logger
}

// Chain is a running dev chain. Close it to stop the node and its loop.
type Chain struct {
	sim *simulated.Backend
	rpc *rpc.Client
	url string
	log *slog.Logger

	commitMu sync.Mutex // one seal at a time: the loop and Commit callers
	stop     context.CancelFunc
	done     chan struct{}
	closed   sync.Once
	closeErr error
}

// Start launches the chain and its sealing loop. It fails when the port cannot
// be bound (a chosen port is retried only when Port is 0).
func Start(ctx context.Context, opts Options) (*Chain, error) {
	if opts.Host == "" {
		opts.Host = DefaultHost
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.BlockPeriod <= 0 {
		opts.BlockPeriod = DefaultBlockPeriod
	}
	if opts.GasLimit == 0 {
		opts.GasLimit = DefaultGasLimit
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	alloc := types.GenesisAlloc{}
	for a, wei := range opts.Alloc {
		alloc[a] = types.Account{Balance: new(big.Int).Set(wei)}
	}
	var (
		sim  *simulated.Backend
		port int
		err  error
	)
	// A free port found by listening can be taken before the node binds it;
	// a few attempts make that race irrelevant.
	for attempt := 0; attempt < 5; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		port = opts.Port
		if port == 0 {
			if port, err = freePort(opts.Host); err != nil {
				return nil, err
			}
		}
		sim, err = newBackend(alloc, opts.Host, port, opts.GasLimit)
		if err == nil || opts.Port != 0 {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	rc, err := inProcRPC(sim)
	if err != nil {
		sim.Close()
		return nil, err
	}
	loopCtx, cancel := context.WithCancel(context.Background())
	c := &Chain{sim: sim, rpc: rc, log: opts.Logger, stop: cancel, done: make(chan struct{}),
		url: "http://" + net.JoinHostPort(opts.Host, strconv.Itoa(port))}
	go c.loop(loopCtx, opts.PollInterval, opts.BlockPeriod)
	return c, nil
}

// newBackend builds the simulated backend. NewBackend panics when the node
// cannot start (a port in use); that becomes an error here.
func newBackend(alloc types.GenesisAlloc, host string, port int, gasLimit uint64) (sim *simulated.Backend, err error) {
	defer func() {
		if p := recover(); p != nil {
			sim, err = nil, fmt.Errorf("devchain: node on %s: %v", net.JoinHostPort(host, strconv.Itoa(port)), p)
		}
	}()
	return simulated.NewBackend(alloc, simulated.WithBlockGasLimit(gasLimit), func(nc *node.Config, ec *ethconfig.Config) {
		nc.HTTPHost = host
		nc.HTTPPort = port
		nc.HTTPModules = []string{"eth", "net", "web3"}
		// Tens of thousands of signed transactions may wait in the pool at once.
		ec.TxPool.GlobalSlots = 1 << 16
		ec.TxPool.AccountSlots = 1 << 10
		ec.TxPool.GlobalQueue = 1 << 14
		// Several signers share one sender's transactions and may submit
		// nonce n+70 before n: geth's default keeps only 64 such future
		// transactions per account and silently evicts the rest after
		// accepting them.
		ec.TxPool.AccountQueue = 1 << 10
	}), nil
}

// inProcRPC returns the backend's in-process RPC client, which reaches the
// txpool namespace that the HTTP endpoint does not serve. The backend's client
// embeds *ethclient.Client, whose field name hides its Client() method, so the
// exported embedded field is read by reflection.
func inProcRPC(sim *simulated.Backend) (*rpc.Client, error) {
	v := reflect.ValueOf(sim.Client())
	if v.Kind() == reflect.Struct {
		if f := v.FieldByName("Client"); f.IsValid() && f.CanInterface() {
			if ec, ok := f.Interface().(*ethclient.Client); ok && ec != nil {
				return ec.Client(), nil
			}
		}
	}
	return nil, errors.New("devchain: the simulated backend exposes no in-process RPC client")
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("devchain: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL is the JSON-RPC endpoint (http://host:port).
func (c *Chain) URL() string { return c.url }

// Client is an in-process client of the chain.
func (c *Chain) Client() simulated.Client { return c.sim.Client() }

// Commit seals a block now with whatever the pool holds.
func (c *Chain) Commit() common.Hash {
	c.commitMu.Lock()
	defer c.commitMu.Unlock()
	return c.sim.Commit()
}

// Pause stops sealing until resume is called, so that a transaction sent
// meanwhile waits in the pool. It is a test's hook (with DropPool: a node
// that lost a transaction); resume must be called before Close.
func (c *Chain) Pause() (resume func()) {
	c.commitMu.Lock()
	var once sync.Once
	return func() { once.Do(c.commitMu.Unlock) }
}

// DropPool discards every transaction waiting in the pool, as a node
// restarted without its pool would: the senders' pending nonces fall back
// to their mined ones. A test's hook, used while sealing is paused.
func (c *Chain) DropPool() { c.sim.Rollback() }

// Pending is the number of executable transactions waiting in the pool.
func (c *Chain) Pending(ctx context.Context) (int, error) {
	var st map[string]hexutil.Uint
	if err := c.rpc.CallContext(ctx, &st, "txpool_status"); err != nil {
		return 0, err
	}
	return int(st["pending"]), nil
}

func (c *Chain) loop(ctx context.Context, poll, period time.Duration) {
	defer close(c.done)
	t := time.NewTicker(poll)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := c.Pending(ctx)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("dev chain: reading the pool", "error", err)
			}
			continue
		}
		if n > 0 || time.Since(last) >= period {
			c.Commit()
			last = time.Now()
		}
	}
}

// Close stops the sealing loop and the node. It is safe to call twice.
func (c *Chain) Close() error {
	c.closed.Do(func() {
		c.stop()
		<-c.done
		c.commitMu.Lock()
		defer c.commitMu.Unlock()
		c.closeErr = c.sim.Close()
	})
	return c.closeErr
}

// WaitReceipt polls for a transaction's receipt until it is mined or ctx
// ends. A node that has not indexed the transaction yet (not found, or
// geth's "transaction indexing is in progress") is asked again.
func WaitReceipt(ctx context.Context, node ethereum.TransactionReader, h common.Hash) (*types.Receipt, error) {
	for {
		r, err := node.TransactionReceipt(ctx, h)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, ethereum.NotFound) && !strings.Contains(err.Error(), "indexing is in progress") {
			return nil, fmt.Errorf("receipt of %s: %w", h.Hex(), err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("receipt of %s: %w", h.Hex(), ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
