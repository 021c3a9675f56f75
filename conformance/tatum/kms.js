#!/usr/bin/env node
// One poll of what Tatum KMS 8's signer daemon does, with Tatum's JavaScript
// SDK v1 (@tatumio/tatum, the package Tatum KMS 8 calls) left unmodified: for
// each chain, POST /v3/kms/pending/{chain} with the wallets' signature ids,
// derive each transaction's key with the SDK, sign with the SDK's KMS signing
// function for the chain, broadcast with the SDK's broadcast function, and
// report failures to POST /v3/tatum/kms/batch. The SDK reads TATUM_API_URL and
// TATUM_API_KEY from the environment for every HTTP call it makes (broadcast,
// transaction count, the web3 gateway, the TRON and EGLD node gateways), so all
// of them reach the server under test.
//
// Usage: node kms.js CONFIG.json
//   CONFIG: {"testnet": true, "chains": ["ETH", ...],
//            "wallets": [{"signatureId", "chain", "mnemonic"?, "privateKey"?, "secret"?}]}
//   (secret: the XLM and XRP wallets' key, which Tatum KMS signs those chains with)
// Prints one JSON line per pending transaction: {"id","chain","signed","broadcast","error"?}.
// Exits 0 when every transaction was signed and broadcast, 1 otherwise.
'use strict';

const fs = require('node:fs');
const sdk = require('@tatumio/tatum');
// The SDK's own axios instance (the one its broadcast functions use): the
// pending list and the error report travel as the SDK's calls do.
const { axios } = require('@tatumio/tatum/dist/src/connector/tatum');

const apiURL = () => process.env.TATUM_API_URL;
const headers = () => ({ headers: { 'x-api-key': process.env.TATUM_API_KEY } });

// As Tatum KMS: a mnemonic wallet with an index on the transaction signs with
// the key derived at that index, otherwise with the wallet's private key.
async function privateKeyFor(wallet, tx, testnet) {
  if (wallet.mnemonic && tx.index !== undefined && tx.index !== null) {
    return sdk.generatePrivateKeyFromMnemonic(tx.chain, testnet, wallet.mnemonic, tx.index);
  }
  return wallet.privateKey;
}

// The UTXO chains sign with one key per input signature: Tatum KMS derives
// one per signatures[] entry of a mnemonic wallet (with the LTC currency for
// BTC too: on testnet both derive at m/44'/1'/0'/0, on mainnet they differ),
// or takes each wallet's private key.
async function utxoKeys(wallets, tx) {
  const sigs = tx.signatures || [];
  const keys = [];
  for (const w of wallets) {
    if (sigs.length > 0) {
      for (const s of sigs) {
        if (w.mnemonic && s.index !== undefined && s.index !== null) {
          keys.push(await sdk.generatePrivateKeyFromMnemonic(sdk.Currency.LTC, w.testnet, w.mnemonic, s.index));
        }
      }
    } else {
      keys.push(w.privateKey);
    }
  }
  return keys;
}

// sign returns the SDK's signed transaction and the SDK broadcast function
// Tatum KMS sends it with, called exactly as Tatum KMS calls them.
async function sign(tx, wallets, testnet) {
  const w = wallets[0];
  switch (tx.chain) {
    case 'ETH':
      return [await sdk.signEthKMSTransaction(tx, await privateKeyFor(w, tx, testnet)), sdk.ethBroadcast];
    case 'BSC':
      return [await sdk.signBscKMSTransaction(tx, await privateKeyFor(w, tx, testnet)), sdk.bscBroadcast];
    case 'MATIC':
      return [await sdk.signPolygonKMSTransaction(tx, await privateKeyFor(w, tx, testnet), testnet), sdk.polygonBroadcast];
    case 'CELO':
      return [await sdk.signCeloKMSTransaction(tx, await privateKeyFor(w, tx, testnet), testnet), sdk.celoBroadcast];
    case 'ONE':
      return [await sdk.signOneKMSTransaction(tx, await privateKeyFor(w, tx, testnet), testnet), sdk.oneBroadcast];
    case 'KLAY':
      return [await sdk.signKlayKMSTransaction(tx, await privateKeyFor(w, tx, testnet), testnet), sdk.klaytnBroadcast];
    case 'XDC':
      return [await sdk.signXdcKMSTransaction(tx, await privateKeyFor(w, tx, testnet)), sdk.xdcBroadcast];
    case 'XLM':
      return [await sdk.signXlmKMSTransaction(tx, w.secret, testnet), sdk.xlmBroadcast];
    case 'XRP':
      return [await sdk.signXrpKMSTransaction(tx, w.secret), sdk.xrpBroadcast];
    case 'TRON':
      return [await sdk.signTronKMSTransaction(tx, await privateKeyFor(w, tx, testnet), testnet), sdk.tronBroadcast];
    case 'EGLD':
      return [await sdk.signEgldKMSTransaction(tx, await privateKeyFor(w, tx, testnet)), sdk.egldBroadcast];
    case 'BTC':
      return [await sdk.signBitcoinKMSTransaction(tx, await utxoKeys(wallets, tx)), sdk.btcBroadcast];
    case 'LTC':
      return [await sdk.signLitecoinKMSTransaction(tx, await utxoKeys(wallets, tx), testnet), sdk.ltcBroadcast];
    case 'BCH':
      return [await sdk.signBitcoinCashKMSTransaction(tx, wallets.map((x) => x.privateKey), testnet), sdk.bcashBroadcast];
    case 'DOGE':
      return [await sdk.signDogecoinKMSTransaction(tx, await utxoKeys(wallets, tx), testnet), sdk.dogeBroadcast];
    default:
      throw new Error(`chain ${tx.chain} is not driven by this harness`);
  }
}

// errorText is what Tatum KMS reports for a failed transaction: the API's
// answer when there is one, the error otherwise.
function errorText(e) {
  return e && e.response ? JSON.stringify(e.response.data) : `${e}`;
}

async function main() {
  const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const testnet = cfg.testnet !== false;
  const byID = new Map(cfg.wallets.map((w) => [w.signatureId, { testnet, ...w }]));
  let failed = 0;
  const errors = [];
  for (const chain of cfg.chains) {
    const signatureIds = cfg.wallets.filter((w) => w.chain === chain).map((w) => w.signatureId);
    const { data: pending } = await axios.post(`${apiURL()}/v3/kms/pending/${chain}`, { signatureIds }, headers());
    for (const tx of pending) {
      const out = { id: tx.id, chain: tx.chain, signed: false, broadcast: false };
      try {
        const wallets = (tx.hashes || []).map((h) => byID.get(h)).filter(Boolean);
        // As Tatum KMS: a transaction naming signatures[] is signed by every
        // mnemonic wallet it holds for the chain, at each signature's index.
        if ((tx.signatures || []).length > 0) {
          wallets.push(...[...byID.values()].filter((w) => w.chain === tx.chain && w.mnemonic));
        }
        if (wallets.length === 0) {
          throw new Error(`no wallet for ${JSON.stringify(tx.hashes)}`);
        }
        const [txData, broadcast] = await sign(tx, wallets, testnet);
        out.signed = true;
        out.txData = txData;
        const res = await broadcast(txData, tx.id);
        out.broadcast = true;
        out.txId = res && res.txId;
      } catch (e) {
        failed++;
        out.error = errorText(e);
        errors.push({ signatureId: tx.id, error: out.error });
      }
      console.log(JSON.stringify(out));
    }
  }
  if (errors.length > 0) {
    await axios.post(`${apiURL()}/v3/tatum/kms/batch`, { errors }, headers());
  }
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(errorText(e));
    process.exit(2);
  },
);
