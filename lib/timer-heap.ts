/**
 * A binary min-heap of tasks ordered by due time, then by scheduling order.
 *
 * @module
 * @internal
 */
import type { Task } from './task.js';

/** TimerHeap orders timed tasks; removal of any task is O(log n) through its stored index. */
export class TimerHeap {
  private readonly items: Task[] = [];

  /** Number of tasks in the heap. */
  get size(): number {
    return this.items.length;
  }

  /** The earliest task, or undefined. */
  peek(): Task | undefined {
    return this.items[0];
  }

  /** Adds a task whose `_dueAt` and `_sequence` are set. */
  push(task: Task): void {
    task._heapIndex = this.items.length;
    this.items.push(task);
    this.siftUp(task._heapIndex);
  }

  /** Removes and returns the earliest task. */
  pop(): Task | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0];
    this.removeAt(0);
    return top;
  }

  /** Removes a task that is in the heap. */
  remove(task: Task): void {
    const index = task._heapIndex;
    if (index < 0 || this.items[index] !== task) return;
    this.removeAt(index);
  }

  private removeAt(index: number): void {
    const items = this.items;
    const removed = items[index];
    const last = items.pop()!;
    removed._heapIndex = -1;
    if (index === items.length) return;
    items[index] = last;
    last._heapIndex = index;
    this.siftDown(index);
    this.siftUp(last._heapIndex);
  }

  private static before(a: Task, b: Task): boolean {
    return a._dueAt < b._dueAt || (a._dueAt === b._dueAt && a._sequence < b._sequence);
  }

  private siftUp(index: number): void {
    const items = this.items;
    const task = items[index];
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex];
      if (!TimerHeap.before(task, parent)) break;
      items[index] = parent;
      parent._heapIndex = index;
      index = parentIndex;
    }
    items[index] = task;
    task._heapIndex = index;
  }

  private siftDown(index: number): void {
    const items = this.items;
    const length = items.length;
    const task = items[index];
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && TimerHeap.before(items[right], items[left]) ? right : left;
      if (!TimerHeap.before(items[child], task)) break;
      items[index] = items[child]!;
      items[index]._heapIndex = index;
      index = child;
    }
    items[index] = task;
    task._heapIndex = index;
  }
}
