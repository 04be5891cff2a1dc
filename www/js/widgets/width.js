// An element's width without reading layout at draw time.

/**
 * Follows `container`'s width with a ResizeObserver: `width()` is the last width it reported,
 * so a chart that redraws after the page changed reads no layout (reading `clientWidth` there
 * laid the whole page out once more, 30-80 ms on the calculator). Before the first report
 * (a draw right after the element was made) it asks the element once. The width is the content
 * box's: the same as `clientWidth` for the elements watched here, which have no padding.
 * `onChange(width)` runs on every change of the element's size.
 */
export class WidthWatch {
  constructor(container, onChange) {
    this.container = container;
    this.seen = 0;
    new ResizeObserver((entries) => {
      this.seen = Math.round(entries.at(-1).contentRect.width);
      onChange(this.seen);
    }).observe(container);
  }

  width() {
    return this.seen || this.container.clientWidth;
  }
}
