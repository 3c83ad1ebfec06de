import { type MessageFormatElement, TYPE } from '@formatjs/icu-messageformat-parser';

/** The argument names an ICU message uses (`{code}`, `{minutes, plural, …}`), however deep. */
export function icuArguments(ast: readonly MessageFormatElement[]): Set<string> {
  const names = new Set<string>();
  const visit = (elements: readonly MessageFormatElement[]) => {
    for (const element of elements) {
      if (element.type === TYPE.literal || element.type === TYPE.pound) continue;
      if (element.type === TYPE.tag) {
        visit(element.children);
        continue;
      }
      names.add(element.value);
      if (element.type === TYPE.plural || element.type === TYPE.select) {
        for (const option of Object.values(element.options)) visit(option.value);
      }
    }
  };
  visit(ast);
  return names;
}
