// Prints the benchmark's figures as one plain-text table per figure, with the target beside each.
const ms = v => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : '-');
const num = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '-');
const kb = v => (Number.isFinite(v) ? `${(v / 1024).toFixed(1)} KB` : '-');
const ratio = v => (Number.isFinite(v) ? `${v.toFixed(1)}x` : '-');

function table(headers, rows) {
  const cells = [headers, ...rows].map(r => r.map(c => String(c ?? '-')));
  const widths = headers.map((_, i) => Math.max(...cells.map(r => r[i].length)));
  const line = r => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(cells[0]), widths.map(w => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** Returns the report as markdown-friendly text (also what BENCHMARKS.md pastes). */
export function formatReport(r) {
  const out = [];
  const p = r.parameters;
  out.push(
    p.only
      ? `Benchmark ${r.startedAt}, figure ${p.only} only: ${r.machine.cpus} CPUs, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}`
      : `Benchmark ${r.startedAt}: ${p.services} services on ${p.clusters} kube-sim clusters, ` +
          `${r.machine.cpus} CPUs, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; ` +
          `backend ready in ${num(r.backendStartSeconds, 0)} s, catalog ingested in ${num(r.catalogIngestSeconds, 0)} s`,
  );
  out.push(
    `Load average of the machine (1/5/15 min): ${r.machine.loadAverageAtStart?.join(' ')} at start, ` +
      `${r.machine.loadAverageAtEnd?.join(' ') ?? '-'} at end; ratios compare figures taken in this same run. Took ${num(r.seconds, 0)} s.`,
  );

  const s = r.status;
  if (s) {
    out.push('', `1-2. Entity deployment state (${p.requests} requests each, ${p.concurrency} in flight, loopback)`);
    const rows = [
      ['Kubernetes plugin (user, baseline)', ms(s.kubernetes.p50Ms), ms(s.kubernetes.p99Ms), num(s.kubernetes.rps), s.kubernetes.errors, num(s.kubernetes.kubeRequestsPer1000, 0)],
    ];
    if (s.rollouts) {
      rows.push(
        ['rollouts (user)', ms(s.rollouts.p50Ms), ms(s.rollouts.p99Ms), num(s.rollouts.rps), s.rollouts.errors, num(s.rollouts.kubeRequestsPer1000, 1)],
        ...(s.rolloutsFirstView
          ? [['rollouts (user), first view per entity', ms(s.rolloutsFirstView.p50Ms), ms(s.rolloutsFirstView.p99Ms), num(s.rolloutsFirstView.rps), s.rolloutsFirstView.errors, '-']]
          : []),
        ['rollouts (user), 1 in flight', ms(s.rolloutsSerial.p50Ms), ms(s.rolloutsSerial.p99Ms), num(s.rolloutsSerial.rps), '-', num(s.rolloutsSerial.kubeRequestsPer1000, 1)],
        ['ratio (baseline / rollouts)', ratio(s.ratios.p50), ratio(s.ratios.p99), ratio(s.ratios.rps), '', ratio(s.kubernetes.kubeRequestsPer1000 / s.rollouts.kubeRequestsPer1000)],
        ...(s.rolloutsService
          ? [['rollouts, CI service token', ms(s.rolloutsService.p50Ms), ms(s.rolloutsService.p99Ms), num(s.rolloutsService.rps), s.rolloutsService.errors, num(s.rolloutsService.kubeRequestsPer1000, 1)]]
          : []),
      );
    }
    out.push(table(['endpoint', 'p50 ms', 'p99 ms', 'req/s', 'errors', 'kube req / 1000'], rows));
    out.push(
      `   idle: ${s.idle.kubeRequests} Kubernetes requests in ${num(s.idle.seconds, 0)} s with nobody looking` +
        ` | target: p99 >= 10x lower (${ratio(s.ratios?.p99)}), our kube requests near zero`,
    );
    if (s.parts) {
      out.push(
        `   one request of ours, one at a time: ${ms(s.parts.rolloutsP50Ms)} ms p50; what it no longer makes on every poll ` +
          `(an action still does), timed alone: the catalog entity as the user ${ms(s.parts.catalogEntityP50Ms)} ms, ` +
          `the action decisions with the entity's ref ${ms(s.parts.permissionDecisionsP50Ms)} ms`,
      );
    }
    if (s.parts?.profile?.top) {
      const pr = s.parts.profile;
      out.push(
        `   backend CPU for 100 of our requests (user): ${num(pr.busyMs, 0)} ms busy; by owner: ` +
          pr.top.slice(0, 8).map(t => `${t.owner} ${(t.shareOfBusy * 100).toFixed(0)}%`).join(', '),
      );
    }
    if (s.kubernetes.firstError) out.push(`   baseline first error: ${s.kubernetes.firstError}`);
    if (s.rollouts?.firstError) out.push(`   rollouts first error: ${s.rollouts.firstError}`);
  }

  const x = r.reaction;
  if (x) {
    out.push('', `3. Health gate reaction: canary pod unready -> rollout Aborted (${x.aborted}/${x.trials} trials aborted)`);
    out.push(
      table(
        ['measure', 'p50 ms', 'p99 ms', 'max ms'],
        [
          ['pod unready -> engine noticed (unhealthySince written)', ms(x.engineNoticedP50Ms), ms(x.engineNoticedP99Ms), '-'],
          ['pod unready -> engine wrote Aborted', ms(x.engineAbortedP50Ms), ms(x.engineAbortedP99Ms), '-'],
          ['pod unready -> Aborted shown by the API', ms(x.p50Ms), ms(x.p99Ms), ms(x.maxMs)],
          ['start request -> Aborted shown', ms(x.startToAbortP50Ms), ms(x.startToAbortP99Ms), '-'],
        ],
      ),
    );
    out.push(`   unready threshold ${x.unreadyThreshold}; reconcile every ${p.reconcileSeconds} s | target: p99 < 2000 ms`);
  }

  const an = r.analysis;
  if (an) {
    out.push('', '6. Analysis: first bad scrape -> Aborted (one canary answering 6% errors, a real Prometheus)');
    if (an.error) out.push(`   not measured: ${an.error}`);
    else {
      out.push(
        table(
          ['measure', 'seconds'],
          [
            ['first bad scrape of a canary pod -> engine wrote Aborted', num(an.firstBadScrapeToAbortedSeconds, 1)],
            ['start request -> engine wrote Aborted', num(an.startToAbortedSeconds, 1)],
          ],
        ),
      );
      out.push(
        `   analysis interval ${an.intervalSeconds} s, scrape interval ${an.scrapeIntervalSeconds} s, failureLimit ${an.failureLimit}; measurements: ${an.measurements.join(', ')}`,
      );
    }
  }

  const sc = r.scale;
  if (sc) {
    out.push('', `4. Rollouts in flight on one backend (idle window ${sc.windowSeconds} s, reconcile every ${p.reconcileSeconds} s)`);
    out.push(
      table(
        ['target', 'in flight', 'RSS MiB', 'RSS +idle', 'heap MiB', 'heap +idle', 'CPU ms/tick', 'CPU +idle', 'CPU %', 'own ms/tick', 'kube req/tick', 'status p99 ms', 'phases'],
        sc.rows.map(row => [
          row.target,
          row.inFlight,
          num(row.rssMiB, 0),
          num(row.rssMiBAboveIdle, 0),
          num(row.heapMiB, 0),
          num(row.heapMiBAboveIdle, 0),
          num(row.cpuSecondsPerTick * 1000, 0),
          num(row.cpuMsPerTickAboveIdle, 0),
          num(row.cpuPercent, 1),
          num(row.ownCpuMsPerInterval, 1),
          num(row.kubeRequestsPerTick, 1),
          ms(row.statusP99Ms),
          Object.entries(row.phases ?? {}).map(([k, v]) => `${k}:${v}`).join(' ') || '-',
        ]),
      ),
    );
    const rows = sc.rows.filter(row => row.target > 0 && row.inFlight > 0);
    if (rows.length >= 2) {
      const a = rows[0];
      const b = rows[rows.length - 1];
      const n = b.inFlight / a.inFlight;
      out.push(
        `   growth ${a.inFlight} -> ${b.inFlight} (${n}x rollouts): CPU above idle ${ratio(b.cpuMsPerTickAboveIdle / a.cpuMsPerTickAboveIdle)}, ` +
          `the plugin's own CPU per tick ${ratio(b.ownCpuMsPerInterval / a.ownCpuMsPerInterval)}, ` +
          `heap above idle ${ratio(b.heapMiBAboveIdle / a.heapMiBAboveIdle)} | target: linear or better, < 300 MB RSS at 1000`,
      );
    }
    const starts = sc.rows.filter(row => row.target > 0);
    if (starts.length) {
      out.push(
        '   starting them through the API: ' +
          starts
            .map(
              row =>
                `${row.started} in ${num(row.startSeconds, 0)} s (p50 ${ms(row.startP50Ms)} ms, p99 ${ms(row.startP99Ms)} ms; ` +
                `CPU backend ${num(row.startBusy?.backendCpuPercent, 0)}%, kube-sims ${row.startBusy?.kubeSimCpuPercent.map(v => num(v, 0)).join('/')}%)`,
            )
            .join('; '),
      );
    }
    if (sc.startAnswers) {
      const answers = Object.entries(sc.startAnswers).sort();
      const others = answers.filter(([k]) => k !== '2xx' && k !== '503').reduce((n, [, v]) => n + v, 0);
      out.push(
        `   start answers: ${answers.map(([k, v]) => `${k} ${v}`).join(', ') || 'none'} | ` +
          `target: every start 2xx or 503 "retry"; other answers: ${others}${others ? ' (FAILED)' : ''}`,
      );
    }
    if (sc.startErrors) out.push(`   ${sc.startErrors} starts failed; first: ${sc.firstStartError}`);
    if (sc.startProfile?.top) {
      out.push(
        `   backend CPU while starting the first level: ${num(sc.startProfile.busyMs, 0)} ms busy of ${num(sc.startProfile.wallMs, 0)} ms; by owner: ` +
          sc.startProfile.top.slice(0, 8).map(t => `${t.owner} ${(t.shareOfBusy * 100).toFixed(0)}%`).join(', '),
      );
    }
    if (sc.idleProfile?.top) {
      const pr = sc.idleProfile;
      const last = sc.rows.at(-1);
      out.push(
        `   backend CPU in the profiled idle window at ${last.target} in flight: ${num(pr.busyMs, 0)} ms busy of ${num(pr.wallMs, 0)} ms ` +
          `(rollouts-backend's own code ${num(last.ownCpuMsPerInterval, 1)} ms per reconcile interval); by owner: ` +
          pr.top.slice(0, 8).map(t => `${t.owner} ${(t.shareOfBusy * 100).toFixed(0)}%`).join(', '),
      );
    }
  }

  const cs = r.clusterSize;
  if (cs) {
    const podsMiB = { heap: cs.afterPods.heapMiB - cs.before.heapMiB, rss: cs.afterPods.rssMiB - cs.before.rssMiB };
    const depMiB = { heap: cs.afterDeployments.heapMiB - cs.afterPods.heapMiB, rss: cs.afterDeployments.rssMiB - cs.afterPods.rssMiB };
    const perObject = (mib, n) => (n > 0 ? `${num((mib * 2 ** 20) / n, 0)} B` : '-');
    out.push('', `7. Clusters bigger than the portal: backend memory after a full GC (pods of no entity: ${cs.podJsonBytes} B of JSON each)`);
    out.push(
      table(
        ['step', 'heap MiB', 'heap +', 'RSS MiB', 'RSS +', 'heap per object'],
        [
          ['before', num(cs.before.heapMiB), '-', num(cs.before.rssMiB), '-', '-'],
          [`+ ${cs.unrelatedPods} pods of no entity`, num(cs.afterPods.heapMiB), num(podsMiB.heap), num(cs.afterPods.rssMiB), num(podsMiB.rss), perObject(podsMiB.heap, cs.unrelatedPods)],
          [`+ ${cs.watchedDeployments} Deployments (watched)`, num(cs.afterDeployments.heapMiB), num(depMiB.heap), num(cs.afterDeployments.rssMiB), num(depMiB.rss), perObject(depMiB.heap, cs.watchedDeployments)],
        ],
      ),
    );
    out.push(
      `   clusters now hold (pods/Deployments/ReplicaSets): ${cs.census.map(c => `${c.Pod}/${c.Deployment}/${c.ReplicaSet}`).join(', ')}; ` +
        `the pods took ${num(cs.podsSeconds, 0)} s to apply | target: pods of no entity add < 20 MiB (${num(podsMiB.heap)} MiB heap, ${num(podsMiB.rss)} MiB RSS)`,
    );
    const traffic = stats => {
      const t = Object.entries(stats.traffic ?? {});
      return {
        events: t.reduce((n, [, v]) => n + v.events, 0),
        bytes: t.reduce((n, [, v]) => n + v.bytes, 0),
        pods: stats.traffic?.pods ?? { events: 0, bytes: 0 },
      };
    };
    out.push(
      `   watch streams while the pods arrived, per cluster: ` +
        cs.whilePods.map(w => { const t = traffic(w); return `${t.events} events ${kb(t.bytes)} (pods ${t.pods.events} events ${kb(t.pods.bytes)})`; }).join('; '),
    );
    out.push(
      `   watch load of one backend replica with nobody acting (${num(cs.idleSeconds, 0)} s), per cluster: ` +
        cs.idle
          .map(w => {
            const t = traffic(w);
            const open = Object.values(w.open ?? {}).reduce((n, v) => n + v, 0);
            return `${open} streams (${Object.keys(w.open ?? {}).sort().join(', ')}), ${num(t.events / cs.idleSeconds, 1)} events/s, ${kb(t.bytes / cs.idleSeconds)}/s`;
          })
          .join('; '),
    );
  }

  const b = r.bundle;
  if (b?.error) out.push('', `5. Frontend bundle: not measured (${b.error})`);
  if (b && !b.error) {
    const how = b.built ? `built in ${num(b.seconds, 0)} s` : b.stale ? `STALE: previous build of ${b.builtAt}` : 'reused fresh dist';
    out.push('', `5. Frontend bundle (packages/app production build, ${how})`);
    const sources = Object.entries(b.initialRolloutsMinifiedBySource ?? {})
      .sort((x, y) => y[1] - x[1])
      .map(([source, bytes]) => `${source.replace(/^plugins\//, '')} ${bytes} B`)
      .join(', ');
    const loaderOf = files => b.loads?.find(l => files.every(f => l.files.includes(f)));
    out.push(
      table(
        ['chunk', 'gzip', 'rollouts code (minified)', 'loaded with its siblings'],
        [
          [`initial chunks (${b.initialChunks})`, kb(b.initialGzipBytes), `${b.initialRolloutsMinifiedBytes} B (${b.initialRolloutsMinifiedGzipBytes} B gzip on their own)`, '-'],
          ...b.lazy.map(c => {
            const load = loaderOf(c.files);
            return [`lazy ${c.files.join(' ')}`, kb(c.gzipBytes), `${c.rolloutsMinifiedBytes} B`, load ? `${kb(load.gzipBytes)} (${load.files.length} chunks)` : '-'];
          }),
        ],
      ),
    );
    out.push(`   in the initial chunks (bytes the source maps attribute to rollouts sources): ${sources || 'nothing'}`);
    out.push(`   target: 0 bytes added to the initial chunks, lazy chunks < 150 KB gzip`);
  }
  const sc8 = r.screen;
  if (sc8?.error) out.push('', `8. Change to screen: not measured (${sc8.error.split('\n')[0]})`);
  if (sc8 && !sc8.error) {
    out.push('', `8. Change to screen: a canary pod turns unready / ready in the cluster -> the open tab shows it (headless Chromium, ${sc8.trials} trials)`);
    out.push(
      table(
        ['tab', 'shown', 'p50 ms', 'p99 ms', 'max ms'],
        [
          [`Kubernetes plugin (baseline, polls every ${num(sc8.kubernetesPollMs / 1000, 0)} s)`, `${sc8.kubernetes.shown}/${sc8.trials}`, ms(sc8.kubernetes.p50Ms), ms(sc8.kubernetes.p99Ms), ms(sc8.kubernetes.maxMs)],
          ['rollouts Deployment tab', `${sc8.ours.shown}/${sc8.trials}`, ms(sc8.ours.p50Ms), ms(sc8.ours.p99Ms), ms(sc8.ours.maxMs)],
          ['ratio (baseline / rollouts)', '', ratio(sc8.ratios.p50), ratio(sc8.ratios.p99), ''],
        ],
      ),
    );
    out.push(
      `   from the pod's new Ready condition in the API server to the first animation frame showing it; pages ${JSON.stringify(sc8.visibility)}` +
        ` | target: ours p99 < ${sc8.goal.p99Ms} ms: ${sc8.goal.met ? 'met' : 'NOT met'}${sc8.stoppedEarly ? ' (stopped early to stay in the time budget)' : ''}`,
    );
  }
  if (r.notes?.length) out.push('', ...r.notes.map(n => `note: ${n}`));
  if (r.error) out.push('', `error: ${r.error.split('\n')[0]}`);
  return out.join('\n');
}

export function printReport(r) {
  console.log(`\n${formatReport(r)}`);
}
