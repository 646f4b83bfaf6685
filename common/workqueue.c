/* workqueue.c - a bounded queue and a set of worker threads */
#include "workqueue.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct mreg_queue {
	pthread_mutex_t lock;
	pthread_cond_t not_empty;
	pthread_cond_t not_full;
	void **items;
	size_t cap, head, len;
	size_t batch;                   /* see mreg_queue_create */
	size_t pop_waiters, push_waiters;
	bool closed;
};

struct mreg_queue *mreg_queue_create(size_t capacity, struct mreg_error *err)
{
	struct mreg_queue *q = NULL;

	if (capacity == 0)
		capacity = 1;
	q = calloc(1, sizeof(*q));
	if (!q)
		goto oom;
	q->items = calloc(capacity, sizeof(void *));
	if (!q->items)
		goto oom;
	q->cap = capacity;
	q->batch = capacity / 8;
	if (q->batch > 32)
		q->batch = 32;
	if (q->batch < 1)
		q->batch = 1;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	pthread_cond_init(&q->not_full, NULL);
	return q;
oom:
	if (q)
		free(q->items);
	free(q);
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	return NULL;
}

void mreg_queue_destroy(struct mreg_queue *q)
{
	if (!q)
		return;
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
	free(q->items);
	free(q);
}

int mreg_queue_push(struct mreg_queue *q, void *item)
{
	pthread_mutex_lock(&q->lock);
	while (q->len == q->cap && !q->closed) {
		q->push_waiters++;
		pthread_cond_wait(&q->not_full, &q->lock);
		q->push_waiters--;
	}
	if (q->closed) {
		pthread_mutex_unlock(&q->lock);
		return -1;
	}
	q->items[(q->head + q->len) % q->cap] = item;
	q->len++;
	if (q->pop_waiters > 0 && q->len >= q->batch)
		pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

void *mreg_queue_pop(struct mreg_queue *q)
{
	void *item = NULL;

	pthread_mutex_lock(&q->lock);
	while (q->len == 0 && !q->closed) {
		q->pop_waiters++;
		pthread_cond_wait(&q->not_empty, &q->lock);
		q->pop_waiters--;
	}
	if (q->len > 0) {
		item = q->items[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
		if (q->push_waiters > 0 && q->cap - q->len >= q->batch)
			pthread_cond_signal(&q->not_full);
	}
	pthread_mutex_unlock(&q->lock);
	return item;
}

void mreg_queue_close(struct mreg_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->lock);
}

size_t mreg_queue_length(struct mreg_queue *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->len;
	pthread_mutex_unlock(&q->lock);
	return n;
}

struct mreg_workers {
	pthread_t *threads;
	int n;
};

struct mreg_workers *mreg_workers_start(int n, void *(*fn)(void *), void *arg,
					struct mreg_error *err)
{
	struct mreg_workers *w = calloc(1, sizeof(*w));
	char ebuf[128];
	int i, rc;

	mreg_error_clear(err);
	if (!w || n < 1 || !(w->threads = calloc((size_t)n, sizeof(pthread_t)))) {
		free(w);
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		rc = pthread_create(&w->threads[i], NULL, fn, arg);
		if (rc != 0) {
			mreg_error_set(err, MREG_EXIT_FAILURE,
				       "could not start a worker thread: %s",
				       mreg_strerror(rc, ebuf, sizeof(ebuf)));
			return w; /* the caller closes its queue and joins */
		}
		w->n = i + 1;
	}
	return w;
}

int mreg_workers_count(const struct mreg_workers *w)
{
	return w ? w->n : 0;
}

void mreg_workers_join(struct mreg_workers *w)
{
	int i;

	if (!w)
		return;
	for (i = 0; i < w->n; i++)
		pthread_join(w->threads[i], NULL);
	free(w->threads);
	free(w);
}
