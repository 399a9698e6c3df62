/** A promise with its resolve function, to open a gate from outside. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Makes the next call of `object[method]` run at once but answer only when `gate` opens,
 * so a test can change the world while a read is in flight. Resolves when the call started.
 */
export function holdNextCall<T extends object>(
  object: T,
  method: keyof T,
  gate: Promise<void>,
): Promise<void> {
  const original = object[method] as unknown as (...args: unknown[]) => Promise<unknown>;
  const started = deferred();
  const spy = jest.spyOn(object, method as never).mockImplementationOnce(((...args: unknown[]) => {
    const result = original.apply(object, args); // the read happens now
    started.resolve();
    return gate.then(() => result);
  }) as never);
  void gate.then(() => spy.mockRestore());
  return started.promise;
}

/**
 * Like holdNextCall, for whichever of `methods` is first called with arguments that
 * `match` (so a test does not depend on which repository method the code uses); every
 * other call goes through. The spies are removed when `gate` opens.
 */
export function holdFirstMatchingCall<T extends object>(
  object: T,
  methods: (keyof T)[],
  match: (args: unknown[]) => boolean,
  gate: Promise<void>,
): Promise<void> {
  const started = deferred();
  let held = false;
  const spies = methods.map((method) => {
    const original = object[method] as unknown as (...args: unknown[]) => Promise<unknown>;
    return jest.spyOn(object, method as never).mockImplementation(((...args: unknown[]) => {
      const result = original.apply(object, args);
      if (held || !match(args)) return result;
      held = true;
      started.resolve();
      return gate.then(() => result);
    }) as never);
  });
  void gate.then(() => spies.forEach((spy) => spy.mockRestore()));
  return started.promise;
}
