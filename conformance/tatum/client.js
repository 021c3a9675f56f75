#!/usr/bin/env node
// The KMS client calls of Tatum's JavaScript SDK v1 (@tatumio/tatum, the
// functions an application uses to follow its pending transactions), left
// unmodified, against the server at TATUM_API_URL: list pending, get one,
// complete one, delete one. Each answer is checked against the type the SDK
// declares for it (TransactionKMS, Signature): the SDK hands the server's JSON
// to the application as that type without checking it, so a field of another
// type would reach the application's code as is.
//
// Usage: node client.js CONFIG.json
//   CONFIG: {"chain": "ETH", "signatureIds": [...], "complete": {"id", "txId"}, "delete": "id"}
// Prints one JSON line per call: {"call","ok","value"?,"status"?,"error"?,"shape"?: [problems]}.
// Exits 0 when every call answered as expected, 1 otherwise.
'use strict';

const fs = require('node:fs');
const sdk = require('@tatumio/tatum');

// shapeProblems lists where tx departs from the SDK's TransactionKMS type.
function shapeProblems(tx) {
  const p = [];
  const want = (name, ok) => {
    if (!ok) p.push(`${name}: ${JSON.stringify(tx[name])}`);
  };
  const optional = (name, test) => want(name, tx[name] === undefined || test(tx[name]));
  const str = (v) => typeof v === 'string';
  want('id', str(tx.id));
  want('chain', Object.values(sdk.Currency).includes(tx.chain));
  want('serializedTransaction', str(tx.serializedTransaction));
  want('hashes', Array.isArray(tx.hashes) && tx.hashes.every(str));
  optional('txId', str);
  optional('withdrawalId', str);
  optional('index', Number.isInteger);
  optional('signatures', (v) => Array.isArray(v) && v.every((s) => str(s.id) && Number.isInteger(s.index)));
  return p;
}

async function main() {
  const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  let failed = 0;
  // call prints what one SDK call answered; expectStatus is the HTTP status
  // of an expected refusal, shape whether the answer is TransactionKMS(es).
  const call = async (name, fn, { shape = false, expectStatus } = {}) => {
    const out = { call: name, ok: false };
    try {
      const value = await fn();
      out.value = value;
      if (shape) {
        const list = Array.isArray(value) ? value : [value];
        out.shape = list.flatMap(shapeProblems);
        out.ok = expectStatus === undefined && Array.isArray(value) === (shape === 'list') && out.shape.length === 0;
      } else {
        out.ok = expectStatus === undefined;
      }
    } catch (e) {
      out.status = e.response ? e.response.status : undefined;
      out.error = e.response ? e.response.data : `${e}`;
      out.ok = expectStatus !== undefined && out.status === expectStatus;
    }
    if (!out.ok) failed++;
    console.log(JSON.stringify(out));
    return out.value;
  };
  const sigs = cfg.signatureIds.join(',');
  await call('getPendingTransactionsKMSByChain', () => sdk.getPendingTransactionsKMSByChain(cfg.chain, sigs), { shape: 'list' });
  await call('getTransactionKMS', () => sdk.getTransactionKMS(cfg.complete.id), { shape: 'one' });
  await call('completePendingTransactionKMS', () => sdk.completePendingTransactionKMS(cfg.complete.id, cfg.complete.txId));
  await call('getTransactionKMS completed', () => sdk.getTransactionKMS(cfg.complete.id), { shape: 'one' });
  await call('deleteTransactionKMS', () => sdk.deleteTransactionKMS(cfg.delete));
  // Tatum's API answers a deleted or unknown id with 403 kms.tx.notFound.
  await call('getTransactionKMS deleted', () => sdk.getTransactionKMS(cfg.delete), { expectStatus: 403 });
  await call('getPendingTransactionsKMSByChain after', () => sdk.getPendingTransactionsKMSByChain(cfg.chain, sigs), { shape: 'list' });
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`${e}`);
    process.exit(2);
  },
);
