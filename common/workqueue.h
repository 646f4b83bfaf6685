/* workqueue.h - a bounded queue and a set of worker threads
 *
 * The queue holds at most capacity items: a producer blocks while it is
 * full, so memory stays flat however much work there is.  Closing the
 * queue wakes everybody: pops drain what is left and then return NULL,
 * pushes fail.  Any number of producers and consumers.
 *
 * Threads are woken a batch at a time (capacity / 8, 1 to 32 items): a
 * consumer that found the queue empty sleeps until a batch is queued (or
 * the queue closes), a producer that found it full until there is room
 * for a batch.  Without that, a consumer faster than its producers (or a
 * producer faster than its consumers) sleeps and is woken once per item,
 * two context switches each.  So an item may wait in the queue until a
 * batch has gathered behind it or the producers close the queue: for
 * work that is drained until close, as here, never a hang.  Every pop
 * of a non-empty queue returns at once.
 *
 * Threads that use jansson need json_object_seed() called once before
 * they start (the caller does it; see modelfile.h).
 */
#ifndef MREG_WORKQUEUE_H
#define MREG_WORKQUEUE_H

#include <stddef.h>

#include "error.h"

struct mreg_queue;

struct mreg_queue *mreg_queue_create(size_t capacity, struct mreg_error *err);
void mreg_queue_destroy(struct mreg_queue *q); /* NULL-safe; items not freed */

/* Block while full; 0 when queued, -1 when the queue is closed. */
int mreg_queue_push(struct mreg_queue *q, void *item);
/* Block while empty; NULL once the queue is closed and drained. */
void *mreg_queue_pop(struct mreg_queue *q);
void mreg_queue_close(struct mreg_queue *q);
size_t mreg_queue_length(struct mreg_queue *q);

struct mreg_workers;

/*
 * Start n threads running fn(arg).  Returns the set; when a thread could
 * not be started, err is filled and the set holds those that did start:
 * close their queue, then mreg_workers_join() it.  NULL only when out of
 * memory (no thread started).
 */
struct mreg_workers *mreg_workers_start(int n, void *(*fn)(void *), void *arg,
					struct mreg_error *err);
/* Threads running in the set. */
int mreg_workers_count(const struct mreg_workers *w);
/* Wait for every thread, then free; NULL-safe. */
void mreg_workers_join(struct mreg_workers *w);

#endif
