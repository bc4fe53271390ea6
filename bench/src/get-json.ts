/** GET `url` and parse its JSON body: a child's control endpoint. */
export async function getJson<T = Record<string, unknown>>(url: string): Promise<T> {
  return (await (await fetch(url)).json()) as T;
}
