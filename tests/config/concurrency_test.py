"""Concurrent /metrics and /tree on the real binary: scrapes and tree views
from several clients at once all succeed, each with a whole answer. Run
under ThreadSanitizer by the tsan preset (label "concurrency")."""

import json
import threading

from nsexp_harness import ExporterTestCase, parse_metrics, run_unittest, values

CLIENTS = 4     # per path
REQUESTS = 15   # per client


class ConcurrentRequestsTest(ExporterTestCase):

    def test_metrics_and_tree_at_once(self):
        e = self.start([])
        failures = []
        done = []
        lock = threading.Lock()

        def client(path):
            for _ in range(REQUESTS):
                try:
                    status, _, body = e.get(path, timeout=60)
                    if status != 200:
                        raise AssertionError(f"{path}: status {status}")
                    text = body.decode("utf-8")
                    if path == "/metrics":
                        if not values(parse_metrics(text), "linux_namespaces"):
                            raise AssertionError("/metrics: no linux_namespaces")
                    elif path.endswith("json"):
                        json.loads(text)
                    elif not text.strip():
                        raise AssertionError(f"{path}: empty tree")
                except Exception as err:  # collected, asserted below
                    with lock:
                        failures.append(f"{path}: {err!r}")
                    return
                with lock:
                    done.append(path)

        paths = ["/metrics", "/tree", "/tree?format=json", "/tree?type=user"]
        threads = [threading.Thread(target=client, args=(p,))
                   for p in paths for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        self.assertFalse(any(t.is_alive() for t in threads), "a client hung")
        self.assertEqual(failures, [], e.log_tail())
        self.assertEqual(len(done), len(paths) * CLIENTS * REQUESTS)
        self.assertIsNone(e.proc.poll(), e.log_tail())


if __name__ == "__main__":
    run_unittest()
