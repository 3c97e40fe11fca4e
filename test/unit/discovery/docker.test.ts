import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DOCKER_PS_ARGS, MAX_PORT_MAPPINGS, PODMAN_PS_ARGS, firstErrorLine, parseDockerPs, parseLabels, parsePorts, tokenizeCommand, unquoteCommand } from '../../../src/core/discovery/dockerPs';
import type { DockerContainer } from '../../../src/core/discovery/dockerPs';
import { hostUrl, opencodeContainers, selectOpencodeContainers } from '../../../src/core/discovery/containerSelection';
import type { ContainerEndpoint } from '../../../src/core/discovery/containerSelection';
import { DockerSource } from '../../../src/core/discovery/dockerSource';
import type { TimerClock } from '../../../src/core/discovery/dockerSource';
import type { CommandResult, CommandRunner } from '../../../src/core/os/exec';
import { MemoryLogger } from '../../../src/core/log';
import { REPO_ROOT } from './helpers';

const DOCKER_FIXTURES = path.join(REPO_ROOT, 'test/fixtures/docker');

function fixture(name: string): string {
  return fs.readFileSync(path.join(DOCKER_FIXTURES, name), 'utf8');
}

/** Parses a fixture; fails the test on any parse error unless errors are expected. */
function endpointsOf(name: string): ContainerEndpoint[] {
  const { containers, errors } = parseDockerPs(fixture(name));
  assert.deepEqual(errors, [], `${name} should parse cleanly`);
  return opencodeContainers(containers);
}

const OFFICIAL = 'ghcr.io/anomalyco/opencode:latest';

// ── Fixtures, end to end ─────────────────────────────────────────────────────

test('every fixture file is covered by a test below', () => {
  const covered = [
    'empty.txt',
    'serve-published.txt',
    'serve-loopback.txt',
    'exposed-only.txt',
    'web.txt',
    'wrappers.txt',
    'mixed.txt',
    'malformed.txt',
    'docker29.txt',
    'podman.txt',
  ];
  const files = fs.readdirSync(DOCKER_FIXTURES).filter((f) => f.endsWith('.txt'));
  assert.deepEqual(files.sort(), [...covered].sort());
});

test('empty.txt: no containers, no errors', () => {
  assert.deepEqual(parseDockerPs(fixture('empty.txt')), { containers: [], errors: [] });
  assert.deepEqual(parseDockerPs('\n  \n'), { containers: [], errors: [] });
});

test('serve-published.txt: one line parsed field by field; 0.0.0.0 wins over :: and is asked on 127.0.0.1', () => {
  const { containers } = parseDockerPs(fixture('serve-published.txt'));
  assert.equal(containers.length, 1);
  assert.deepEqual(containers[0], {
    id: 'c25f4cde5d37c8a7d655e433601b5b4eae931b21e1db8601d5cdd00e2a193d44',
    names: ['opencode-alpha'],
    image: OFFICIAL,
    command: 'opencode serve --port 4096 --hostname 0.0.0.0',
    argv: ['opencode', 'serve', '--port', '4096', '--hostname', '0.0.0.0'],
    ports: [
      { hostIp: '0.0.0.0', hostPort: 4096, containerPort: 4096, protocol: 'tcp' },
      { hostIp: '::', hostPort: 4096, containerPort: 4096, protocol: 'tcp' },
    ],
    exposed: [],
    state: 'running',
    status: 'Up 2 hours',
    labels: {},
    networks: ['bridge'],
  } satisfies DockerContainer);
  assert.deepEqual(endpointsOf('serve-published.txt'), [
    {
      id: 'c25f4cde5d37',
      name: 'opencode-alpha',
      image: OFFICIAL,
      command: 'opencode serve --port 4096 --hostname 0.0.0.0',
      url: 'http://127.0.0.1:4096',
      hostPort: 4096,
      containerPort: 4096,
      state: 'running',
    },
  ]);
});

test('serve-loopback.txt: published only on 127.0.0.1 with another host port; compose labels parsed', () => {
  const { containers } = parseDockerPs(fixture('serve-loopback.txt'));
  assert.equal(containers[0]?.labels['com.docker.compose.project.working_dir'], '/home/dev/devbox');
  assert.equal(containers[0]?.labels['com.docker.compose.depends_on'], '');
  assert.equal(containers[0]?.status, 'Up 3 minutes (healthy)');
  assert.deepEqual(endpointsOf('serve-loopback.txt'), [
    {
      id: '2a2849a89cba',
      name: 'devbox-opencode-1',
      image: OFFICIAL,
      command: 'opencode serve --hostname 0.0.0.0 --port 4096',
      url: 'http://127.0.0.1:14096',
      hostPort: 14096,
      containerPort: 4096,
      state: 'running',
    },
  ]);
});

test('exposed-only.txt: exposed but not published is no endpoint, with a reason', () => {
  const { containers } = parseDockerPs(fixture('exposed-only.txt'));
  assert.deepEqual(containers[0]?.ports, []);
  assert.deepEqual(containers[0]?.exposed, ['4096/tcp']);
  assert.deepEqual(selectOpencodeContainers(containers), {
    endpoints: [],
    skipped: [
      { id: 'c939e2827e19', name: 'opencode-noport', reason: 'exposes 4096/tcp but publishes no port (run it with -p 4096:4096)' },
    ],
  });
});

test('web.txt: `opencode web --port 3000`, IPv6 in brackets', () => {
  const { containers } = parseDockerPs(fixture('web.txt'));
  assert.deepEqual(containers[0]?.ports, [
    { hostIp: '0.0.0.0', hostPort: 3000, containerPort: 3000, protocol: 'tcp' },
    { hostIp: '::', hostPort: 3000, containerPort: 3000, protocol: 'tcp' },
  ]);
  assert.deepEqual(endpointsOf('web.txt'), [
    {
      id: '446b0160b082',
      name: 'opencode-web',
      image: OFFICIAL,
      command: 'opencode web --port 3000 --hostname 0.0.0.0',
      url: 'http://127.0.0.1:3000',
      hostPort: 3000,
      containerPort: 3000,
      state: 'running',
    },
  ]);
});

test('wrappers.txt: entrypoint script + npx opencode-ai, sh -c with &&, tini; the OpenCode port among others', () => {
  assert.deepEqual(endpointsOf('wrappers.txt'), [
    {
      id: 'd271e9fd29ed',
      name: 'opencode-npx',
      image: 'node:22-bookworm',
      command: 'docker-entrypoint.sh npx -y opencode-ai@1.18.33 serve --port 4096 --hostname 0.0.0.0',
      url: 'http://127.0.0.1:4101',
      hostPort: 4101,
      containerPort: 4096,
      state: 'running',
    },
    {
      id: 'f5dae8971412',
      name: 'opencode-shell',
      image: 'acme/opencode-dev:2025.11',
      command: "/bin/sh -c 'cd /workspace && exec opencode serve --hostname 0.0.0.0 --port=4200'",
      url: 'http://127.0.0.1:4200',
      hostPort: 4200,
      containerPort: 4200,
      state: 'running',
    },
    {
      id: '71c130c3e3a5',
      name: 'opencode-tini',
      image: 'acme/opencode-tini:latest',
      command: '/usr/bin/tini -- /usr/local/bin/opencode serve --hostname 0.0.0.0',
      url: 'http://127.0.0.1:4102',
      hostPort: 4102,
      containerPort: 4096,
      state: 'running',
    },
  ]);
});

test('mixed.txt: only the running OpenCode server; unrelated containers ignored; OpenCode ones left out say why', () => {
  const { containers, errors } = parseDockerPs(fixture('mixed.txt'));
  assert.deepEqual(errors, []);
  assert.equal(containers.length, 8);
  // Older CLIs print labels in map order; a value with commas would still be whole.
  assert.equal(containers.find((c) => c.names[0] === 'devbox-db-1')?.labels['com.docker.compose.service'], 'db');
  const { endpoints, skipped } = selectOpencodeContainers(containers);
  assert.deepEqual(endpoints, [
    {
      id: 'aefd5cb659f2',
      name: 'devbox-opencode-1',
      image: OFFICIAL,
      command: 'opencode serve --hostname 0.0.0.0',
      url: 'http://127.0.0.1:4096',
      hostPort: 4096,
      containerPort: 4096,
      state: 'running',
    },
  ]);
  assert.deepEqual(skipped, [
    { id: '075e908898c9', name: 'opencode-tui', reason: 'runs `opencode /workspace` without --port: it opens no port' },
    { id: '05bad1058005', name: 'opencode-multi', reason: 'publishes container ports 3001, 5173: none is 4096 or given by --port' },
    { id: '8f6990d38cd7', name: 'opencode-paused', reason: 'not running (Up 5 hours (Paused))' },
    { id: '5c15d6ce9d1b', name: 'opencode-old', reason: 'not running (Exited (137) 2 days ago)' },
  ]);
  // postgres, redis and opencode-monitor are neither endpoints nor "skipped".
  assert.ok(!skipped.some((s) => /db|cache|monitor/.test(s.name)));
});

test('malformed.txt: bad lines reported with their number, the good ones kept', () => {
  const { containers, errors } = parseDockerPs(fixture('malformed.txt'));
  assert.deepEqual(
    containers.map((c) => c.names[0]),
    ['opencode-v6', 'cache'],
  );
  assert.equal(errors.length, 3);
  assert.match(errors[0] as string, /^line 3: not JSON: \{"Command":"\\"opencode serve/);
  assert.equal(errors[1], 'line 4: not JSON: json');
  assert.match(errors[2] as string, /^line 5: no container ID: \{"Command":"\\"sleep infinity\\"","Names":"ghost"/);
  assert.deepEqual(opencodeContainers(containers), [
    {
      id: '0a25a6be4e8a',
      name: 'opencode-v6',
      image: OFFICIAL,
      command: 'opencode serve --port=4096 --hostname=::',
      url: 'http://[::1]:4096',
      hostPort: 4096,
      containerPort: 4096,
      state: 'running',
    },
  ]);
  // A long bad line is cut in the report.
  const long = parseDockerPs(`{"ID": ${'x'.repeat(500)}`).errors[0] as string;
  assert.ok(long.length < 160 && long.endsWith('…'), long);
});

test('docker29.txt: extra non-string fields (IPAddresses, Platform) are ignored; a specific host address is used as is', () => {
  const { containers } = parseDockerPs(fixture('docker29.txt'));
  assert.equal(containers.length, 2);
  assert.deepEqual(endpointsOf('docker29.txt'), [
    {
      id: 'd4d1a40dc409',
      name: 'opencode-lan',
      image: OFFICIAL,
      command: 'opencode serve --hostname 0.0.0.0 --port 4096',
      url: 'http://192.168.1.20:4096',
      hostPort: 4096,
      containerPort: 4096,
      state: 'running',
    },
  ]);
});

test('podman.txt: the JSON array; CMD-only command of the opencode image; host_ip ""; range expanded', () => {
  const { containers, errors } = parseDockerPs(fixture('podman.txt'));
  assert.deepEqual(errors, []);
  assert.equal(containers.length, 3);
  assert.deepEqual(containers[1]?.ports, [
    { hostIp: '127.0.0.1', hostPort: 13000, containerPort: 3000, protocol: 'tcp' },
    { hostIp: '127.0.0.1', hostPort: 13001, containerPort: 3001, protocol: 'tcp' },
  ]);
  assert.deepEqual(containers[1]?.labels, { 'io.buildah.version': '1.41.4' });
  assert.deepEqual(endpointsOf('podman.txt'), [
    {
      id: '53f42ee2db37',
      name: 'oc-web',
      image: 'localhost/oc-dev:latest',
      command: 'opencode web --port 3000 --hostname 0.0.0.0',
      url: 'http://127.0.0.1:13000',
      hostPort: 13000,
      containerPort: 3000,
      state: 'running',
    },
    {
      id: '4fe48441d037',
      name: 'opencode',
      image: OFFICIAL,
      command: 'serve --hostname 0.0.0.0 --port 4096',
      url: 'http://127.0.0.1:4096',
      hostPort: 4096,
      containerPort: 4096,
      state: 'running',
    },
  ]);
});

test('podman {{json .}} lines (one object per line, podman field names) parse too', () => {
  const line = JSON.stringify({
    Id: 'ab'.repeat(32),
    Names: ['oc'],
    Image: 'localhost/oc:1',
    Command: ['opencode', 'serve', '--hostname', '0.0.0.0'],
    Ports: [{ host_ip: '0.0.0.0', container_port: 4096, host_port: 4096, range: 1, protocol: 'tcp' }, { bogus: true }],
    ExposedPorts: { '8080': ['tcp'] },
    State: 'running',
    Status: 'Up 1 minute',
  });
  const { containers, errors } = parseDockerPs(`${line}\n`);
  assert.deepEqual(errors, []);
  assert.deepEqual(containers[0]?.exposed, ['8080/tcp']);
  assert.equal(opencodeContainers(containers)[0]?.url, 'http://127.0.0.1:4096');
  assert.deepEqual(parseDockerPs('[{"Names":["x"]}, 3]').errors, ['item 1: no container ID', 'item 2: not a JSON object']);
  assert.match(parseDockerPs('[{"Id": "x"').errors[0] as string, /^output is not a valid JSON array/);
});

// ── Pieces ───────────────────────────────────────────────────────────────────

test('parsePorts: published mappings only, IPv4/IPv6 old and new styles, ranges expanded and bounded', () => {
  assert.deepEqual(parsePorts('0.0.0.0:4096->4096/tcp, :::4096->4096/tcp, 5432/tcp, 127.0.0.1:8000-8001->8000-8001/tcp'), [
    { hostIp: '0.0.0.0', hostPort: 4096, containerPort: 4096, protocol: 'tcp' },
    { hostIp: '::', hostPort: 4096, containerPort: 4096, protocol: 'tcp' },
    { hostIp: '127.0.0.1', hostPort: 8000, containerPort: 8000, protocol: 'tcp' },
    { hostIp: '127.0.0.1', hostPort: 8001, containerPort: 8001, protocol: 'tcp' },
  ]);
  assert.deepEqual(parsePorts('[::]:3101->9000/tcp'), [{ hostIp: '::', hostPort: 3101, containerPort: 9000, protocol: 'tcp' }]);
  assert.deepEqual(parsePorts('[::1]:4096->4096/tcp'), [{ hostIp: '::1', hostPort: 4096, containerPort: 4096, protocol: 'tcp' }]);
  // Old style with a specific IPv6 address: the last colon separates the port.
  assert.deepEqual(parsePorts('::1:8080->80/tcp'), [{ hostIp: '::1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
  assert.deepEqual(parsePorts('0.0.0.0:53->53/UDP'), [{ hostIp: '0.0.0.0', hostPort: 53, containerPort: 53, protocol: 'udp' }]);
  assert.deepEqual(parsePorts(''), []);
  assert.deepEqual(parsePorts('8000-8001/tcp, 4096/tcp'), []);
  assert.deepEqual(parsePorts('0.0.0.0:8000-8002->80-81/tcp'), [], 'unequal range lengths');
  assert.deepEqual(parsePorts('0.0.0.0:8001-8000->8001-8000/tcp'), [], 'reversed range');
  assert.deepEqual(parsePorts('0.0.0.0:32799->8080/tcp, [::]:0->8080/tcp'), [
    { hostIp: '0.0.0.0', hostPort: 32799, containerPort: 8080, protocol: 'tcp' },
  ]);
  assert.deepEqual(parsePorts('0.0.0.0:70000->80/tcp, garbage, ->/tcp, 1.2.3.4:x->80/tcp'), []);
  const huge = parsePorts('0.0.0.0:1-65535->1-65535/tcp, :::1-65535->1-65535/tcp');
  assert.equal(huge.length, MAX_PORT_MAPPINGS);
  assert.deepEqual(huge.at(-1), { hostIp: '0.0.0.0', hostPort: MAX_PORT_MAPPINGS, containerPort: MAX_PORT_MAPPINGS, protocol: 'tcp' });
});

test('hostUrl: wildcards on loopback, specific addresses as they are, IPv6 in brackets', () => {
  assert.equal(hostUrl('0.0.0.0', 4096), 'http://127.0.0.1:4096');
  assert.equal(hostUrl('', 4096), 'http://127.0.0.1:4096');
  assert.equal(hostUrl('::', 4096), 'http://[::1]:4096');
  assert.equal(hostUrl('[::]', 4096), 'http://[::1]:4096');
  assert.equal(hostUrl('::1', 4096), 'http://[::1]:4096');
  assert.equal(hostUrl('127.0.0.2', 4096), 'http://127.0.0.2:4096');
  assert.equal(hostUrl('192.168.1.20', 80), 'http://192.168.1.20:80');
  assert.equal(hostUrl('FD00::5', 80), 'http://[fd00::5]:80');
  assert.equal(hostUrl('::ffff:10.0.0.1', 80), 'http://10.0.0.1:80');
});

test('unquoteCommand / tokenizeCommand: Go quoting undone, single-quoted arguments kept whole', () => {
  assert.equal(unquoteCommand('"opencode serve"'), 'opencode serve');
  assert.equal(unquoteCommand('"sh -c \\"echo hi\\""'), 'sh -c "echo hi"');
  assert.equal(unquoteCommand('"bad \\x1b escape"'), 'bad \\x1b escape');
  assert.equal(unquoteCommand('""'), '');
  assert.equal(unquoteCommand('plain words'), 'plain words');
  assert.deepEqual(tokenizeCommand("/bin/sh -c 'cd /w && opencode serve'"), ['/bin/sh', '-c', 'cd /w && opencode serve']);
  assert.deepEqual(tokenizeCommand('a  "b c" --x=\'1 2\' \'\''), ['a', 'b c', '--x=1 2', '']);
  assert.deepEqual(tokenizeCommand('C:\\app\\opencode.exe serve'), ['C:\\app\\opencode.exe', 'serve']);
  assert.deepEqual(tokenizeCommand(''), []);
});

test('parseLabels: k=v pairs; commas inside a value; empty values', () => {
  assert.deepEqual(parseLabels(''), {});
  assert.deepEqual(parseLabels('a=1,b=,c.d/e=x=y'), { a: '1', b: '', 'c.d/e': 'x=y' });
  assert.deepEqual(parseLabels('org.opencontainers.image.description=Run it with Alpine, Apache and PHP FPM.,z=2'), {
    'org.opencontainers.image.description': 'Run it with Alpine, Apache and PHP FPM.',
    z: '2',
  });
});

test('firstErrorLine: the first meaningful stderr line', () => {
  assert.equal(
    firstErrorLine('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n'),
    'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
  );
  assert.equal(firstErrorLine('WARNING: Error loading config file\n\npermission denied while trying to connect\n'), 'permission denied while trying to connect');
  assert.equal(firstErrorLine('WARNING: only this\n'), 'WARNING: only this');
  assert.equal(firstErrorLine('  \n'), undefined);
});

// ── Selection rules on hand-made containers ──────────────────────────────────

function container(partial: Partial<DockerContainer> & { command: string }): DockerContainer {
  return {
    id: '0123456789abcdef'.repeat(4),
    names: ['c'],
    image: 'img',
    argv: tokenizeCommand(partial.command),
    ports: [{ hostIp: '0.0.0.0', hostPort: 4096, containerPort: 4096, protocol: 'tcp' }],
    exposed: [],
    state: 'running',
    status: 'Up 1 minute',
    labels: {},
    networks: ['bridge'],
    ...partial,
  };
}

const urls = (cs: DockerContainer[]): string[] => opencodeContainers(cs).map((e) => e.url);
const reasons = (cs: DockerContainer[]): string[] => selectOpencodeContainers(cs).skipped.map((s) => s.reason);

test('OpenCode detection: basename opencode/opencode.exe, npx/bunx opencode-ai; not opencode-monitor, not the image alone', () => {
  const serve = '--hostname 0.0.0.0';
  assert.deepEqual(urls([container({ command: `/root/.opencode/bin/opencode serve ${serve}` })]), ['http://127.0.0.1:4096']);
  assert.deepEqual(urls([container({ command: `C:\\tools\\opencode.exe serve ${serve}` })]), ['http://127.0.0.1:4096']);
  assert.deepEqual(urls([container({ command: `bunx opencode-ai serve ${serve}` })]), ['http://127.0.0.1:4096']);
  assert.deepEqual(urls([container({ command: `node /usr/lib/node_modules/opencode-ai/bin/opencode web ${serve}` })]), ['http://127.0.0.1:4096']);
  assert.deepEqual(urls([container({ command: 'opencode-monitor daemon' })]), []);
  assert.deepEqual(urls([container({ command: '/app/opencode-ai-proxy serve' })]), []);
  assert.deepEqual(reasons([container({ command: 'opencode-monitor daemon' })]), [], 'not OpenCode: not even skipped');
  // The image name alone does not count when the command runs something else…
  assert.deepEqual(urls([container({ command: '/entrypoint.sh', image: OFFICIAL })]), []);
  // …but an empty command, or one that is OpenCode's arguments (podman hides the ENTRYPOINT), does.
  assert.deepEqual(urls([container({ command: '', image: OFFICIAL })]), ['http://127.0.0.1:4096']);
  assert.deepEqual(urls([container({ command: '', image: 'registry.local:5000/team/opencode@sha256:abc' })]), ['http://127.0.0.1:4096']);
  assert.deepEqual(urls([container({ command: `serve --port 4096 ${serve}`, image: 'opencode:dev' })]), ['http://127.0.0.1:4096']);
  assert.deepEqual(urls([container({ command: '', image: 'ghcr.io/example/opencode-monitor:1' })]), []);
  assert.deepEqual(urls([container({ command: '', image: 'opencode-sandbox' })]), []);
});

test('OpenCode that is not a server is skipped with a reason; a later server in the same script wins', () => {
  assert.deepEqual(reasons([container({ command: 'opencode run "fix the bug"' })]), ['runs `opencode run fix the …`, not an OpenCode server']);
  assert.deepEqual(reasons([container({ command: 'opencode attach http://host:4096' })]), ['runs `opencode attach`, a client of another server']);
  assert.deepEqual(reasons([container({ command: 'opencode --version' })]), ['runs `opencode --version`, not an OpenCode server']);
  assert.deepEqual(reasons([container({ command: 'opencode' })]), ['runs `opencode` without --port: it opens no port']);
  assert.deepEqual(urls([container({ command: "sh -c 'opencode auth list; opencode serve --port 4096 --hostname 0.0.0.0'" })]), [
    'http://127.0.0.1:4096',
  ]);
  // The TUI with --port listens.
  assert.deepEqual(urls([container({ command: 'opencode --port 4096 --hostname 0.0.0.0 /work' })]), ['http://127.0.0.1:4096']);
});

test('port choice: --port N first, else 4096, else the only published TCP port, else skipped', () => {
  const ports = (...list: Array<[string, number, number, string?]>) =>
    list.map(([hostIp, hostPort, containerPort, protocol = 'tcp']) => ({ hostIp, hostPort, containerPort, protocol }));
  const withPorts = (command: string, p: DockerContainer['ports']) => container({ command: `${command} --hostname 0.0.0.0`, ports: p });
  // --port wins over a published 4096.
  assert.deepEqual(urls([withPorts('opencode serve --port 5000', ports(['0.0.0.0', 4096, 4096], ['0.0.0.0', 15000, 5000]))]), ['http://127.0.0.1:15000']);
  assert.deepEqual(reasons([withPorts('opencode serve --port=5000', ports(['0.0.0.0', 4096, 4096]))]), [
    'OpenCode listens on container port 5000 (--port), which is not published (published: 4096)',
  ]);
  // --port 0 (random) falls back to the other rules.
  assert.deepEqual(urls([withPorts('opencode serve --port 0', ports(['0.0.0.0', 8080, 80], ['0.0.0.0', 4999, 4096]))]), ['http://127.0.0.1:4999']);
  // The only TCP port; UDP does not count.
  assert.deepEqual(urls([withPorts('opencode web', ports(['0.0.0.0', 9000, 3000], ['0.0.0.0', 53, 53, 'udp']))]), ['http://127.0.0.1:9000']);
  assert.deepEqual(reasons([withPorts('opencode web', ports(['0.0.0.0', 53, 53, 'udp']))]), ['publishes no TCP port']);
  assert.deepEqual(reasons([container({ command: 'opencode serve', ports: [], networks: ['host'] })]), [
    'uses the host network: no published port (process discovery finds it on Linux)',
  ]);
  // Several bindings of the chosen port: IPv4 before IPv6, wildcard before specific, then the lower host port.
  const many = ports(['::', 4096, 4096], ['192.168.1.5', 4100, 4096], ['0.0.0.0', 5000, 4096], ['0.0.0.0', 4999, 4096]);
  assert.deepEqual(urls([withPorts('opencode serve', many)]), ['http://127.0.0.1:4999']);
  assert.deepEqual(urls([withPorts('opencode serve', ports(['::', 4096, 4096], ['fd00::2', 4000, 4096]))]), ['http://[::1]:4096']);
});

test('running: State when given, else Status "Up …" (not paused)', () => {
  const oc = 'opencode serve --hostname 0.0.0.0';
  assert.deepEqual(urls([container({ command: oc, state: '', status: 'Up 3 minutes' })]), ['http://127.0.0.1:4096']);
  assert.deepEqual(urls([container({ command: oc, state: '', status: 'Up 3 minutes (Paused)' })]), []);
  assert.deepEqual(urls([container({ command: oc, state: 'restarting', status: 'Restarting (1) 2 seconds ago' })]), []);
  assert.deepEqual(urls([container({ command: oc, state: 'created', status: 'Created' })]), []);
});

test('hint when OpenCode binds loopback inside the container (no --hostname, or 127.0.0.1)', () => {
  const [plain] = opencodeContainers([container({ command: 'opencode serve --port 4096' })]);
  assert.match(plain?.hint ?? '', /without --hostname 0\.0\.0\.0/);
  const [local] = opencodeContainers([container({ command: 'opencode serve --hostname 127.0.0.1' })]);
  assert.ok(local?.hint);
  const [wide] = opencodeContainers([container({ command: 'opencode serve --hostname=0.0.0.0' })]);
  assert.equal(wide?.hint, undefined);
  const [mdns] = opencodeContainers([container({ command: 'opencode serve --mdns' })]);
  assert.equal(mdns?.hint, undefined);
});

test('names: legacy link aliases skipped; endpoints sorted by name', () => {
  const oc = 'opencode serve --hostname 0.0.0.0';
  const list = opencodeContainers([
    container({ command: oc, names: ['other/alias', 'zeta'], id: 'b'.repeat(64) }),
    container({ command: oc, names: ['alpha'], id: 'a'.repeat(64) }),
    container({ command: oc, names: [], id: 'c'.repeat(64) }),
  ]);
  assert.deepEqual(
    list.map((e) => [e.name, e.id]),
    [
      ['alpha', 'aaaaaaaaaaaa'],
      ['cccccccccccc', 'cccccccccccc'],
      ['zeta', 'bbbbbbbbbbbb'],
    ],
  );
});

// ── DockerSource ─────────────────────────────────────────────────────────────

/** Timers the test fires by hand. */
class FakeClock implements TimerClock {
  private nextId = 1;
  readonly timers = new Map<number, { callback: () => void; ms: number }>();
  setTimeout = (callback: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.timers.set(id, { callback, ms });
    return id;
  };
  clearTimeout = (handle: unknown): void => void this.timers.delete(handle as number);
  delays(): number[] {
    return [...this.timers.values()].map((t) => t.ms);
  }
  /** Runs the oldest pending timer; returns its delay. */
  fire(): number {
    const first = [...this.timers.entries()][0];
    assert.ok(first, 'a timer is pending');
    const [id, timer] = first;
    this.timers.delete(id);
    timer.callback();
    return timer.ms;
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Fires the loop's timer and lets the scan finish; returns the delay that timer had. */
async function step(clock: FakeClock): Promise<number> {
  const ms = clock.fire();
  await settle();
  await settle();
  return ms;
}

type Answer = Partial<CommandResult> | Error | 'hang';

function scriptedRunner(answer: () => Answer): CommandRunner & { calls: Array<{ file: string; args: string[]; timeoutMs?: number }> } {
  const calls: Array<{ file: string; args: string[]; timeoutMs?: number }> = [];
  const run = ((file: string, args: readonly string[], options?: { timeoutMs?: number }) => {
    calls.push({ file, args: [...args], ...(options?.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
    const a = answer();
    if (a === 'hang') return new Promise<CommandResult>(() => undefined);
    if (a instanceof Error) return Promise.reject(a);
    return Promise.resolve({ stdout: a.stdout ?? '', stderr: a.stderr ?? '', code: a.code ?? 0 });
  }) as CommandRunner & { calls: Array<{ file: string; args: string[]; timeoutMs?: number }> };
  run.calls = calls;
  return run;
}

function enoent(): Error {
  return Object.assign(new Error('spawn docker ENOENT'), { code: 'ENOENT', errno: -2, syscall: 'spawn docker', path: 'docker' });
}

const DAEMON_DOWN = 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?';

function makeSource(answer: () => Answer, extra: { binary?: string } = {}) {
  const clock = new FakeClock();
  const logger = new MemoryLogger();
  const runner = scriptedRunner(answer);
  const source = new DockerSource({ logger, runner, clock, random: () => 1, ...extra });
  return { clock, logger, runner, source };
}

test('DockerSource: docker missing → "docker not found", backoff 5 s → 60 s, logged once, recovery logged', async () => {
  let answer: Answer = enoent();
  const { clock, logger, runner, source } = makeSource(() => answer);
  source.start();
  source.start(); // idempotent
  assert.deepEqual(clock.delays(), [0]);
  const delays: number[] = [];
  for (let i = 0; i < 6; i++) {
    await step(clock);
    assert.equal(source.error, 'docker not found');
    delays.push(...clock.delays());
  }
  assert.deepEqual(delays, [5_000, 10_000, 20_000, 40_000, 60_000, 60_000]);
  assert.deepEqual(
    logger.records.filter((r) => r.level === 'warn').map((r) => r.message),
    ['docker discovery: docker not found'],
  );
  assert.deepEqual(runner.calls[0], { file: 'docker', args: [...DOCKER_PS_ARGS], timeoutMs: 5_000 });

  answer = { stdout: fixture('serve-published.txt') };
  await step(clock);
  assert.equal(source.error, undefined);
  assert.deepEqual(clock.delays(), [5_000]);
  assert.ok(logger.records.some((r) => r.level === 'info' && r.message === 'docker discovery: docker works again'));
  assert.equal(source.current.length, 1);
  source.dispose();
  assert.equal(clock.timers.size, 0);
});

test('DockerSource: daemon down → the first stderr line, the last good list kept', async () => {
  let answer: Answer = { stdout: fixture('serve-published.txt') };
  const { clock, logger, source } = makeSource(() => answer);
  let changes = 0;
  source.onChange(() => changes++);
  source.start();
  await step(clock);
  assert.equal(changes, 1);
  answer = { code: 1, stderr: `${DAEMON_DOWN}\n` };
  await step(clock);
  await step(clock);
  assert.equal(source.error, DAEMON_DOWN);
  assert.equal(source.current.length, 1, 'the last good list stays');
  assert.equal(changes, 1);
  assert.deepEqual(clock.delays(), [10_000]);
  assert.equal(logger.records.filter((r) => r.level === 'warn').length, 1);
  // No stderr at all: the exit code is the message.
  answer = { code: 125 };
  await step(clock);
  assert.equal(source.error, 'docker ps exited with code 125');
  source.dispose();
});

test('DockerSource: a hung docker ps ends with a timeout error; scanNow joins the running scan', async () => {
  let answer: Answer = 'hang';
  const { clock, runner, source } = makeSource(() => answer);
  source.start();
  clock.fire(); // the loop's first scan starts and hangs
  await settle();
  assert.deepEqual(clock.delays(), [6_000], 'only the deadline guard is pending');
  const joined = source.scanNow();
  assert.equal(runner.calls.length, 1, 'never two docker ps at once');
  clock.fire(); // the guard
  assert.deepEqual(await joined, []);
  await settle();
  assert.equal(source.error, 'docker timed out after 5000 ms');
  assert.deepEqual(clock.delays(), [5_000]);
  answer = { stdout: '' };
  await step(clock);
  assert.equal(source.error, undefined);
  source.dispose();
  assert.equal(clock.timers.size, 0);
});

test('DockerSource: onChange only when the list really differs', async () => {
  let stdout = fixture('empty.txt');
  const { source, logger } = makeSource(() => ({ stdout }));
  const seen: ContainerEndpoint[][] = [];
  source.onChange((list) => seen.push(list));
  await source.scanNow();
  assert.equal(seen.length, 0, 'empty stays empty');
  stdout = fixture('serve-published.txt');
  assert.equal((await source.scanNow()).length, 1);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]?.[0]?.url, 'http://127.0.0.1:4096');
  await source.scanNow();
  // Other containers coming and going do not change the OpenCode list.
  stdout = fixture('serve-published.txt') + fixture('mixed.txt').split('\n').slice(1, 3).join('\n');
  await source.scanNow();
  assert.equal(seen.length, 1);
  stdout = fixture('wrappers.txt');
  await source.scanNow();
  assert.equal(seen.length, 2);
  assert.deepEqual(
    seen[1]?.map((e) => e.name),
    ['opencode-npx', 'opencode-shell', 'opencode-tini'],
  );
  stdout = '';
  await source.scanNow();
  assert.deepEqual(seen[2], []);
  assert.deepEqual(source.current, []);
  // A listener that throws is logged and does not stop the others.
  source.onChange(() => {
    throw new Error('boom');
  });
  let after = 0;
  source.onChange(() => after++);
  stdout = fixture('web.txt');
  await source.scanNow();
  assert.equal(after, 1);
  assert.ok(logger.records.some((r) => r.level === 'error' && r.message.includes('boom')));
  source.dispose();
});

test('DockerSource: unreadable lines and left-out containers are logged once, not on every scan', async () => {
  let stdout = fixture('malformed.txt') + fixture('mixed.txt');
  const { source, logger } = makeSource(() => ({ stdout }));
  await source.scanNow();
  await source.scanNow();
  const infos = logger.records.filter((r) => r.level === 'info').map((r) => r.message);
  assert.equal(infos.filter((m) => m.includes('skipped unreadable output: line 3')).length, 1);
  assert.equal(infos.filter((m) => m.includes('opencode-tui') && m.includes('left out')).length, 1);
  assert.equal(source.error, undefined);
  // Output that is nothing but garbage is a failure.
  stdout = 'json\njson\n';
  await source.scanNow();
  assert.equal(source.error, 'unreadable docker output: line 1: not JSON: json');
  source.dispose();
});

test('DockerSource: dispose stops the loop and leaves no timer, also during a scan', async () => {
  const { clock, source } = makeSource(() => ({ stdout: fixture('serve-published.txt') }));
  source.start();
  await step(clock);
  assert.deepEqual(clock.delays(), [5_000]);
  source.dispose();
  assert.equal(clock.timers.size, 0);
  source.start();
  assert.equal(clock.timers.size, 0, 'no restart after dispose');
  assert.deepEqual(await source.scanNow(), source.current);

  let release: (r: CommandResult) => void = () => undefined;
  const clock2 = new FakeClock();
  const hanging = new DockerSource({
    logger: new MemoryLogger(),
    clock: clock2,
    runner: () => new Promise<CommandResult>((resolve) => (release = resolve)),
  });
  let changes = 0;
  hanging.onChange(() => changes++);
  hanging.start();
  clock2.fire();
  await settle();
  assert.equal(clock2.timers.size, 1, 'the deadline guard');
  hanging.dispose();
  assert.equal(clock2.timers.size, 0);
  release({ stdout: fixture('serve-published.txt'), stderr: '', code: 0 });
  await settle();
  await settle();
  assert.equal(clock2.timers.size, 0, 'a scan finishing after dispose schedules nothing');
  assert.equal(changes, 0);
  assert.deepEqual(hanging.current, []);
});

test('DockerSource: podman gets its JSON-array arguments; a path to docker keeps the docker ones', async () => {
  const podman = makeSource(() => ({ stdout: fixture('podman.txt') }), { binary: '/usr/bin/podman' });
  assert.equal((await podman.source.scanNow()).length, 2);
  assert.deepEqual(podman.runner.calls[0]?.args, [...PODMAN_PS_ARGS]);
  const docker = makeSource(() => ({ stdout: '' }), { binary: '/usr/local/bin/docker' });
  await docker.source.scanNow();
  assert.deepEqual(docker.runner.calls[0]?.args, [...DOCKER_PS_ARGS]);
});

test('DockerSource with the real runner: a missing binary is "<binary> not found"', async () => {
  const logger = new MemoryLogger();
  const source = new DockerSource({ logger, binary: '/nonexistent/docker-for-tests' });
  assert.deepEqual(await source.scanNow(), []);
  assert.equal(source.error, '/nonexistent/docker-for-tests not found');
  source.dispose();
});

test('DockerSource with real timers: the loop runs, reports, and dispose lets the process exit', async () => {
  const logger = new MemoryLogger();
  const runner = scriptedRunner(() => ({ stdout: fixture('web.txt') }));
  const source = new DockerSource({ logger, runner, intervalMs: 5 });
  const first = new Promise<ContainerEndpoint[]>((resolve) => source.onChange(resolve));
  source.start();
  const list = await first;
  assert.equal(list[0]?.url, 'http://127.0.0.1:3000');
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.ok(runner.calls.length >= 2, 'rescheduled itself');
  source.dispose();
  const calls = runner.calls.length;
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(runner.calls.length, calls, 'no scan after dispose');
});
