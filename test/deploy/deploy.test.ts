import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { clusterText, loadServerConfig, portOf, urlText, type Config } from '../../src/config/index.js';
import { parseEnvironmentFile, parseUnit, readRepoFile, repoRoot } from './deploy-files.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed YAML

function configOf(argv: string[], env: Record<string, string> = {}): { config: Config; warnings: string[] } {
  const result = loadServerConfig(argv, env);
  assert.equal(result.kind, 'config', `flags do not load: ${argv.join(' ')}`);
  if (result.kind !== 'config') throw new Error('unreachable');
  return result;
}

/** The script path `cairn` is installed as (package.json "bin"): every deployment must run exactly this. */
function cairnScript(): string {
  const pkg = JSON.parse(readRepoFile('package.json')) as { bin: Record<string, string> };
  return pkg.bin.cairn;
}

function dockerfileLines(): string[] {
  return readRepoFile('Dockerfile').replace(/\\\n/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
}

describe('Dockerfile', () => {
  const lines = dockerfileLines();
  const instruction = (name: string) => lines.filter((line) => line.toUpperCase().startsWith(`${name} `));

  it('is a multi-stage node:20 build whose runtime stage runs the compiled bin as a non-root user', () => {
    const froms = instruction('FROM');
    assert.ok(froms.length >= 2, 'a build stage and a runtime stage');
    for (const from of froms) assert.match(from, /^FROM node:20[-.\w]* AS \w+$/i);
    assert.ok(lines.some((line) => /npm ci\b/.test(line)), 'npm ci');
    assert.ok(lines.some((line) => /\btsc -p \./.test(line)), 'tsc build');
    assert.ok(lines.some((line) => /npm prune --omit=dev/.test(line)), 'dev dependencies pruned');
    const lastFrom = lines.lastIndexOf(froms[froms.length - 1]);
    const runtime = lines.slice(lastFrom);
    const user = runtime.filter((line) => line.startsWith('USER '));
    assert.equal(user.length, 1);
    assert.doesNotMatch(user[0], /^USER (root|0)(:|$)/);
    const entrypoint = JSON.parse(instruction('ENTRYPOINT')[0].slice('ENTRYPOINT '.length)) as string[];
    assert.equal(entrypoint[0], 'node');
    assert.ok(entrypoint[1].endsWith(cairnScript()), `${entrypoint[1]} is package.json's bin.cairn`);
  });

  it('exposes 2379 and 2380, keeps data in /var/lib/cairn and health-checks /health', () => {
    assert.deepEqual(instruction('EXPOSE').flatMap((line) => line.split(/\s+/).slice(1)).sort(), ['2379', '2380']);
    assert.ok(instruction('VOLUME').some((line) => line.includes('/var/lib/cairn')));
    const health = instruction('HEALTHCHECK');
    assert.equal(health.length, 1);
    assert.match(health[0], /CMD .*\/health/);
    assert.doesNotMatch(health[0], /\bcurl\b|\bwget\b/, 'the slim image has neither');
  });

  it('the default command and environment of the image load as a valid configuration', () => {
    const cmd = JSON.parse(instruction('CMD').at(-1)!.slice('CMD '.length)) as string[];
    const env = Object.fromEntries(instruction('ENV').map((line) => line.slice(4).split('=', 2) as [string, string]));
    const { config, warnings } = configOf(cmd, env);
    assert.deepEqual(warnings, []);
    assert.equal(config.dataDir, '/var/lib/cairn/data');
    assert.deepEqual(config.listenClientUrls.map(portOf), [2379]);
  });

  it('.dockerignore keeps out build output and dependencies but nothing the build copies', () => {
    const ignored = readRepoFile('.dockerignore').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
    for (const required of ['node_modules', 'dist', '.git']) assert.ok(ignored.includes(required), required);
    const copied = instruction('COPY').filter((line) => !line.includes('--from=')).flatMap((line) => line.split(/\s+/).slice(1, -1));
    for (const source of copied) assert.ok(!ignored.includes(source), `${source} is copied but ignored`);
    assert.deepEqual(copied.sort(), ['package-lock.json', 'package.json', 'src', 'tsconfig.json']);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readRepoFile('docker-compose.yml'), { merge: true }) as Json;
  const names = Object.keys(compose.services as Json);
  // Loaded inside each test, so a member whose flags do not load fails that test by name.
  const loadMembers = () => names.map((name) => ({ name, service: compose.services[name] as Json, ...configOf(compose.services[name].command as string[]) }));

  it('has three members n1, n2, n3 built from the Dockerfile', () => {
    assert.deepEqual(names, ['n1', 'n2', 'n3']);
    for (const name of names) assert.equal(compose.services[name].build, '.');
  });

  it("each member's flags load cleanly, and its name is its service name and host name", () => {
    for (const { name, service, config, warnings } of loadMembers()) {
      assert.deepEqual(warnings, [], name);
      assert.equal(config.name, name);
      assert.equal(service.hostname, name);
    }
  });

  it('all members agree on the initial cluster, token and state', () => {
    const [first, ...rest] = loadMembers();
    for (const member of rest) {
      assert.equal(clusterText(member.config.initialCluster), clusterText(first.config.initialCluster));
      assert.equal(member.config.initialClusterToken, first.config.initialClusterToken);
      assert.equal(member.config.initialClusterState, 'new');
    }
    assert.deepEqual(first.config.initialCluster.map((m) => m.name), names);
  });

  it("each member advertises its own entry of --initial-cluster, on its service name and peer listen port", () => {
    for (const { name, config } of loadMembers()) {
      const entry = config.initialCluster.find((member) => member.name === name)!;
      assert.deepEqual(entry.peerUrls.map(urlText), config.initialAdvertisePeerUrls.map(urlText));
      for (const url of config.initialAdvertisePeerUrls) {
        assert.equal(url.hostname, name);
        assert.equal(portOf(url), portOf(config.listenPeerUrls[0]));
      }
      for (const url of config.advertiseClientUrls) {
        assert.equal(url.hostname, name);
        assert.equal(portOf(url), portOf(config.listenClientUrls[0]));
      }
      for (const url of [...config.listenClientUrls, ...config.listenPeerUrls]) assert.equal(url.hostname, '0.0.0.0');
    }
  });

  it('publishes each client port on a distinct host port and keeps each data dir on its own named volume', () => {
    const hostPorts = new Set<string>();
    const members = loadMembers();
    for (const { name, service, config } of members) {
      const [hostPort, containerPort] = String(service.ports[0]).split(':');
      assert.equal(Number(containerPort), portOf(config.listenClientUrls[0]), name);
      hostPorts.add(hostPort);
      const [volume, mountPath] = String(service.volumes[0]).split(':');
      assert.ok(volume in compose.volumes, `${volume} is a declared named volume`);
      assert.ok(config.dataDir.startsWith(`${mountPath}/`), `${config.dataDir} is on the volume at ${mountPath}`);
    }
    assert.equal(hostPorts.size, 3);
    assert.equal(new Set(members.map((m) => m.service.volumes[0].split(':')[0])).size, 3);
  });

  it('docker compose config -q accepts the file', (t) => {
    const version = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8', timeout: 10_000 });
    if (version.status !== 0) {
      t.skip('`docker compose version` fails on this machine (no compose plugin), so compose itself cannot check the file');
      return;
    }
    const check = spawnSync('docker', ['compose', 'config', '-q'], { cwd: repoRoot(), encoding: 'utf8', timeout: 20_000 });
    assert.equal(check.status, 0, check.stderr);
  });
});

function k8sObjects(): Json[] {
  const dir = join(repoRoot(), 'k8s');
  const files = readdirSync(dir).filter((file) => file.endsWith('.yaml') || file.endsWith('.yml'));
  return files.flatMap((file) =>
    parseAllDocuments(readRepoFile('k8s', file)).map((doc) => {
      assert.deepEqual(doc.errors, [], file);
      return doc.toJS() as Json;
    }),
  ).filter((object) => object !== null);
}

function matches(selector: Json, labels: Json): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

describe('k8s manifests', () => {
  const objects = k8sObjects();
  const ofKind = (kind: string) => objects.filter((object) => object.kind === kind);
  const set = ofKind('StatefulSet')[0];
  const pod = set?.spec?.template;
  const container = pod?.spec?.containers?.[0];

  it('every object has apiVersion, kind and name', () => {
    for (const object of objects) {
      assert.ok(object.apiVersion && object.kind && object.metadata?.name, JSON.stringify(object).slice(0, 80));
    }
    assert.equal(ofKind('StatefulSet').length, 1);
  });

  it('the StatefulSet runs 3 pods in parallel behind a headless Service named by serviceName', () => {
    assert.equal(set.spec.replicas, 3);
    assert.equal(set.spec.podManagementPolicy, 'Parallel', 'OrderedReady would wait forever for quorum');
    assert.ok(matches(set.spec.selector.matchLabels, pod.metadata.labels));
    const headless = ofKind('Service').find((service) => service.metadata.name === set.spec.serviceName);
    assert.ok(headless, `a Service named ${set.spec.serviceName}`);
    assert.equal(headless.spec.clusterIP, 'None');
    assert.equal(headless.spec.publishNotReadyAddresses, true);
    assert.ok(matches(headless.spec.selector, pod.metadata.labels));
    const client = ofKind('Service').find((service) => service !== headless);
    assert.ok(client && matches(client.spec.selector, pod.metadata.labels), 'a client Service for the same pods');
  });

  it('probes: readiness on /health, liveness on a named container port', () => {
    const ports = new Map((container.ports as Json[]).map((port) => [port.name, port.containerPort]));
    assert.deepEqual([...ports.values()].sort(), [2379, 2380]);
    assert.equal(container.readinessProbe.httpGet.path, '/health');
    assert.ok(ports.has(container.readinessProbe.httpGet.port));
    assert.ok(container.livenessProbe.httpGet.path, 'a liveness probe');
    assert.ok(ports.has(container.livenessProbe.httpGet.port));
  });

  it('data sits on a persistent volume claim per pod, mounted where --data-dir points', () => {
    const claim = set.spec.volumeClaimTemplates[0];
    assert.deepEqual(claim.spec.accessModes, ['ReadWriteOnce']);
    const mount = (container.volumeMounts as Json[]).find((volumeMount) => volumeMount.name === claim.metadata.name);
    assert.ok(mount, 'the claim is mounted');
    const dataDir = (container.args as string[]).find((arg) => arg.startsWith('--data-dir='))!.split('=')[1];
    assert.ok(dataDir.startsWith(`${mount.mountPath}/`));
    assert.equal(pod.spec.securityContext.runAsNonRoot, true);
    assert.ok(pod.spec.securityContext.fsGroup, 'fsGroup makes the volume writable by the non-root user');
  });

  it('a PodDisruptionBudget allows one member down at a time, for the same pods', () => {
    const pdb = ofKind('PodDisruptionBudget')[0];
    assert.equal(pdb.spec.maxUnavailable, 1);
    assert.deepEqual(pdb.spec.selector.matchLabels, set.spec.selector.matchLabels);
  });

  it("each pod's flags, built from its name and namespace, load and agree on one cluster", () => {
    const defined = new Set((container.env as Json[]).map((variable) => variable.name));
    const args = container.args as string[];
    for (const reference of args.join(' ').matchAll(/\$\(([A-Z_]+)\)/g)) assert.ok(defined.has(reference[1]), reference[1]);
    const namespace = 'prod';
    const clusters = new Set<string>();
    for (let ordinal = 0; ordinal < set.spec.replicas; ordinal++) {
      const podName = `${set.metadata.name}-${ordinal}`;
      const argv = args.map((arg) => arg.replaceAll('$(POD_NAME)', podName).replaceAll('$(POD_NAMESPACE)', namespace));
      const { config, warnings } = configOf(argv);
      assert.deepEqual(warnings, []);
      assert.equal(config.name, podName);
      assert.equal(config.initialAdvertisePeerUrls[0].hostname, `${podName}.${set.spec.serviceName}.${namespace}.svc.cluster.local`);
      clusters.add(clusterText(config.initialCluster));
      assert.deepEqual(config.initialCluster.map((member) => member.name), ['cairn-0', 'cairn-1', 'cairn-2']);
    }
    assert.equal(clusters.size, 1, 'every pod lists the same initial cluster');
  });
});

describe('systemd unit and EnvironmentFile', () => {
  const unit = parseUnit(readRepoFile('deploy', 'systemd', 'cairn.service'));
  const service = unit.get('Service')!;
  const one = (key: string) => {
    const values = service.get(key) ?? [];
    assert.equal(values.length, 1, `exactly one ${key}=`);
    return values[0];
  };

  it('has the directives of the etcd guides, adapted to cairn', () => {
    assert.equal(one('Type'), 'notify');
    assert.equal(one('NotifyAccess'), 'all', 'cairn notifies through a systemd-notify child process');
    assert.equal(one('EnvironmentFile'), '-/etc/cairn/cairn.env');
    assert.equal(one('ExecStart'), `/usr/bin/env node /opt/cairn/${cairnScript()}`);
    assert.equal(one('Restart'), 'on-failure');
    assert.equal(one('RestartSec'), '5');
    assert.equal(one('LimitNOFILE'), '65536');
    assert.notEqual(one('User'), 'root');
    assert.ok(unit.get('Unit')?.get('After')?.some((value) => value.includes('network-online.target')));
    assert.deepEqual(unit.get('Install')?.get('WantedBy'), ['multi-user.target']);
  });

  it('the example EnvironmentFile loads through loadServerConfig as member 1 of 3', () => {
    const env = parseEnvironmentFile(readRepoFile('deploy', 'systemd', 'cairn.env.example'));
    assert.ok(Object.keys(env).every((name) => name.startsWith('ETCD_')), 'etcd names, so etcd files carry over');
    const { config, warnings } = configOf([], env);
    assert.deepEqual(warnings, []);
    assert.equal(config.name, 'cairn1');
    assert.equal(config.initialCluster.length, 3);
    assert.ok(config.dataDir.startsWith('/var/lib/cairn/'), 'inside the StateDirectory the unit creates');
  });

  it('systemd-analyze verify finds nothing to complain about', (t) => {
    const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8', timeout: 10_000 });
    if (probe.status !== 0) {
      t.skip('systemd-analyze is not installed here');
      return;
    }
    const check = spawnSync('systemd-analyze', ['verify', join(repoRoot(), 'deploy', 'systemd', 'cairn.service')], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(check.status, 0, check.stderr);
    assert.equal(check.stderr.trim(), '', 'unknown keys and bad values are only warnings: none allowed');
  });
});
