/** Promises that resolve when a condition on some state holds, re-checked on `notify()`. */
export class Waiters {
  private list: (() => void)[] = [];
  private readonly label: string;

  constructor(label: string) {
    this.label = label;
  }

  waitFor(pred: () => boolean, timeoutMs = 20_000): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.list = this.list.filter((w) => w !== check);
        reject(new Error(`${this.label}.waitFor timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        if (!pred()) return;
        clearTimeout(timer);
        this.list = this.list.filter((w) => w !== check);
        resolve();
      };
      this.list.push(check);
    });
  }

  notify(): void {
    for (const w of [...this.list]) w();
  }
}
