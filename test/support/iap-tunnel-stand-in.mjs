#!/usr/bin/env -S node --
// Stand-in for `gcloud compute start-iap-tunnel INSTANCE PORT --listen-on-stdin --zone=Z --project=P`, which
// needs Google's IAP servers: it carries stdin and stdout to the test VM that IAP_STAND_IN_ROUTES maps the
// instance to (JSON: {"project/zone/instance": "127.0.0.1:<sshd port>"}), and appends each invocation (its
// arguments and the names in its environment) to IAP_STAND_IN_LOG. What it cannot reach ends it as gcloud
// ends: the error on stderr and exit code 1.
import { appendFileSync } from 'node:fs';
import { connect } from 'node:net';

const args = process.argv.slice(2);
const flag = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const [instance, port] = args.filter((a) => !a.startsWith('--'));
const fail = (text) => {
  process.stderr.write(`ERROR: (gcloud.compute.start-iap-tunnel) ${text}\n`);
  process.exit(1);
};

const seen = { args, env: Object.keys(process.env) };
if (process.env.IAP_STAND_IN_LOG) appendFileSync(process.env.IAP_STAND_IN_LOG, `${JSON.stringify(seen)}\n`);
if (!args.includes('--listen-on-stdin'))
  fail('this stand-in only carries stdin and stdout (--listen-on-stdin)');
// gcloud adds the port to IAP's 4003 (nothing listening, or a firewall in the way).
const unreachable = `Error while connecting [4003: 'failed to connect to backend']. (Failed to connect to port ${port})`;
if (port !== '22') fail(unreachable);
const route = JSON.parse(process.env.IAP_STAND_IN_ROUTES ?? '{}')[
  `${flag('project')}/${flag('zone')}/${instance}`
];
if (route === undefined) fail(`Error while connecting [4047: 'Failed to lookup instance'].`);

const [host, vmPort] = route.split(':');
const socket = connect(Number(vmPort), host);
socket.on('error', () => fail(unreachable));
process.stdin.pipe(socket);
socket.pipe(process.stdout);
socket.on('end', () => process.exit(0));
