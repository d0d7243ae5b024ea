/** What the migration's periodic look for new in-scope source topics finds (activity findNewTopics). Type-only. */
export interface NewTopicsReport {
  /** Source topics in scope that the plan does not know (neither planned nor excluded), by name. */
  topics: { name: string; partitions: number; records: number }[];
  /** Groups in scope with committed offsets on those topics (the topics of each, by name). */
  groups: { group: string; topics: string[] }[];
  checkedAt: string;
}
