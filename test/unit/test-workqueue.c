/* test-workqueue.c - the bounded queue and worker threads */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "workqueue.h"
#include "tap.h"

#define ITEMS 20000
#define CAP 8

static struct mreg_queue *q;

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}
static atomic_int seen[ITEMS];
static atomic_int in_flight, max_in_flight, consumed;

static void *consumer(void *arg)
{
	void *item;

	(void)arg;
	while ((item = mreg_queue_pop(q)) != NULL) {
		intptr_t i = (intptr_t)item - 1;
		atomic_fetch_add(&seen[i], 1);
		atomic_fetch_sub(&in_flight, 1);
		atomic_fetch_add(&consumed, 1);
	}
	return NULL;
}

static void test_many_consumers(int nthreads)
{
	struct mreg_error err;
	struct mreg_workers *w;
	intptr_t i;
	int once = 0, cur, max;
	size_t len, max_len = 0;

	for (i = 0; i < ITEMS; i++)
		atomic_store(&seen[i], 0);
	atomic_store(&consumed, 0);
	atomic_store(&in_flight, 0);
	atomic_store(&max_in_flight, 0);
	q = mreg_queue_create(CAP, &err);
	w = mreg_workers_start(nthreads, consumer, NULL, &err);
	ok(w && mreg_workers_count(w) == nthreads && err.status == 0,
	   "%d workers started", nthreads);
	for (i = 0; i < ITEMS; i++) {
		/* counted before the push: bounded by CAP plus the items the
		 * consumers hold between pop and their decrement */
		cur = atomic_fetch_add(&in_flight, 1) + 1;
		max = atomic_load(&max_in_flight);
		while (cur > max &&
		       !atomic_compare_exchange_weak(&max_in_flight, &max, cur))
			;
		if (mreg_queue_push(q, (void *)(i + 1)) < 0)
			break;
		len = mreg_queue_length(q);
		if (len > max_len)
			max_len = len;
	}
	mreg_queue_close(q);
	mreg_workers_join(w);
	for (i = 0; i < ITEMS; i++)
		if (atomic_load(&seen[i]) == 1)
			once++;
	is_int(once, ITEMS, "%d threads: every item consumed exactly once",
	       nthreads);
	is_int(atomic_load(&consumed), ITEMS, "%d threads: count adds up",
	       nthreads);
	ok(atomic_load(&max_in_flight) <= CAP + nthreads + 1,
	   "%d threads: producer held back by the bound (max in flight %d)",
	   nthreads, atomic_load(&max_in_flight));
	ok(max_len <= CAP, "%d threads: queue never above capacity (max %zu)",
	   nthreads, max_len);
	ok(mreg_queue_push(q, (void *)1) == -1, "push after close fails");
	ok(mreg_queue_pop(q) == NULL, "pop after close and drain is NULL");
	mreg_queue_destroy(q);
}

static void *slow_consumer(void *arg)
{
	(void)arg;
	/* cannot race: whenever this pops, the push below can only succeed
	 * after it (capacity 1); the sleep only makes the wait likely long */
	sleep_ms(200);
	return mreg_queue_pop(q);
}

static void test_blocking(void)
{
	struct mreg_error err;
	struct mreg_workers *w;

	q = mreg_queue_create(1, &err);
	ok(mreg_queue_push(q, (void *)1) == 0, "first push into capacity 1");
	w = mreg_workers_start(1, slow_consumer, NULL, &err);
	/* blocks until the slow consumer makes room */
	ok(mreg_queue_push(q, (void *)2) == 0, "second push waited for room");
	is_int(mreg_queue_length(q), 1, "one item left");
	mreg_workers_join(w);
	ok(mreg_queue_pop(q) == (void *)2, "FIFO order");
	mreg_queue_close(q);
	ok(mreg_queue_pop(q) == NULL, "closed and empty");
	mreg_queue_destroy(q);
	mreg_queue_destroy(NULL);
	mreg_workers_join(NULL);
}

static void *waiter(void *arg)
{
	(void)arg;
	return mreg_queue_pop(q);
}

static void test_close_wakes(void)
{
	struct mreg_error err;
	struct mreg_workers *w;

	q = mreg_queue_create(4, &err);
	w = mreg_workers_start(3, waiter, NULL, &err);
	/* cannot race: consumers that are not blocked yet see the closed
	 * queue at once; the sleep only makes it likely that they block */
	sleep_ms(50);
	mreg_queue_close(q);
	mreg_workers_join(w); /* would hang if close did not wake them */
	ok(1, "close wakes every blocked consumer");
	mreg_queue_destroy(q);
}

static atomic_int got;

static void *counting_consumer(void *arg)
{
	(void)arg;
	while (mreg_queue_pop(q) != NULL)
		atomic_fetch_add(&got, 1);
	return NULL;
}

/* Sleepers are woken a batch at a time (capacity / 8): a full batch wakes
 * a consumer without a close; what is left of one, the close. */
static void test_batch_wake(void)
{
	struct mreg_error err;
	struct mreg_workers *w;
	intptr_t i;
	int waited;

	atomic_store(&got, 0);
	q = mreg_queue_create(64, &err); /* batches of 8 */
	w = mreg_workers_start(1, counting_consumer, NULL, &err);
	for (i = 1; i <= 8; i++)
		mreg_queue_push(q, (void *)i);
	/* an event with a deadline: the consumer takes the batch */
	for (waited = 0; atomic_load(&got) < 8 && waited < 10000; waited++)
		sleep_ms(1);
	is_int(atomic_load(&got), 8, "a full batch wakes the consumer");
	for (i = 1; i <= 3; i++)
		mreg_queue_push(q, (void *)i);
	mreg_queue_close(q);
	mreg_workers_join(w);
	is_int(atomic_load(&got), 11, "the close hands on the rest of a batch");
	mreg_queue_destroy(q);
}

int main(void)
{
	test_many_consumers(1);
	test_many_consumers(8);
	test_blocking();
	test_close_wakes();
	test_batch_wake();
	return tap_done();
}
