// Package nodetest holds local doubles of the chain nodes the server and the
// signer talk to, each serving the documented endpoints the node clients call
// and checking what is broadcast as the network would (signature by an
// independent library, sequence). The node clients' tests and the end-to-end
// tests share them, and the process benchmark runs the EVM one as a process
// (bench/nodedouble). Only those import it.
package nodetest
